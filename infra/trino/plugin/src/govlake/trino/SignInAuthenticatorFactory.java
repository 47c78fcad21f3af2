package govlake.trino;

import io.trino.spi.security.PasswordAuthenticator;
import io.trino.spi.security.PasswordAuthenticatorFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Configuration (etc/password-authenticator.properties):
 * <pre>
 * password-authenticator.name=govlake-file
 * govlake.password-file=...        user:bcrypt-hash lines, re-read when the file changes
 * govlake.audit-spool=...          folder the audit receiver drains
 * govlake.max-failures=5           failures within the window that lock a user out
 * govlake.lockout-seconds=300      the window, and how long a lockout lasts
 * govlake.lockout-exempt=a,b       users never locked out (their failures are still recorded)
 * </pre>
 */
public final class SignInAuthenticatorFactory
        implements PasswordAuthenticatorFactory
{
    @Override
    public String getName()
    {
        return "govlake-file";
    }

    @Override
    public PasswordAuthenticator create(Map<String, String> config)
    {
        Map<String, String> left = new HashMap<>(config);
        Path passwords = Path.of(required(left, "govlake.password-file"));
        Path spool = Path.of(required(left, "govlake.audit-spool"));
        int maxFailures = Integer.parseInt(left.getOrDefault("govlake.max-failures", "5"));
        left.remove("govlake.max-failures");
        Duration lockout = Duration.ofSeconds(Long.parseLong(left.getOrDefault("govlake.lockout-seconds", "300")));
        left.remove("govlake.lockout-seconds");
        Set<String> exempt = new HashSet<>(Arrays.asList(left.getOrDefault("govlake.lockout-exempt", "").split(",")));
        left.remove("govlake.lockout-exempt");
        if (!left.isEmpty()) {
            throw new IllegalArgumentException("unknown properties of the govlake-file authenticator: " + left.keySet());
        }
        return new SignInAuthenticator(passwords, spool, maxFailures, lockout, exempt);
    }

    private static String required(Map<String, String> config, String name)
    {
        String value = config.remove(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the govlake-file authenticator needs `" + name + "`");
        }
        return value;
    }
}
