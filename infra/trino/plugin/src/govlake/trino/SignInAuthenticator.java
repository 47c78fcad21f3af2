package govlake.trino;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.trino.spi.security.AccessDeniedException;
import io.trino.spi.security.BasicPrincipal;
import io.trino.spi.security.PasswordAuthenticator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks a user's password against the bcrypt password file and records each failed sign-in (and
 * each sign-in refused during a lockout) as a file in the audit spool, written before the client
 * gets its 401. After `maxFailures` failures within `lockout`, the user is refused for `lockout`,
 * even with the right password, unless exempt (the scheduled ETL's account, which a guesser must
 * not be able to stop). A password already verified is remembered by its SHA-256 only,
 * until the password file changes (Trino authenticates every request of a query).
 */
final class SignInAuthenticator
        implements PasswordAuthenticator
{
    private static final int MAX_TRACKED = 10_000;
    // a valid bcrypt hash of a random password, checked for unknown users
    private static final String UNKNOWN_USER_HASH = BCrypt.withDefaults().hashToString(10, java.util.UUID.randomUUID().toString().toCharArray());

    private final Path passwordFile;
    private final Path spool;
    private final int maxFailures;
    private final Duration lockout;
    private final Set<String> exempt;
    private final Map<String, Attempts> attempts = new ConcurrentHashMap<>();

    private volatile FileTime loadedAt;
    private volatile Map<String, String> hashes = Map.of();
    private volatile Set<String> verified = Set.of();
    private volatile long generation;

    SignInAuthenticator(Path passwordFile, Path spool, int maxFailures, Duration lockout, Set<String> exempt)
    {
        this.exempt = exempt;
        this.passwordFile = passwordFile;
        this.spool = spool;
        this.maxFailures = maxFailures;
        this.lockout = lockout;
        reload();
    }

    /** One user's recent failures and lockout; guarded by its own monitor. */
    private static final class Attempts
    {
        final Deque<Instant> failures = new ArrayDeque<>();
        Instant lockedUntil;

        boolean stale(Instant now, Duration window)
        {
            return (lockedUntil == null || !now.isBefore(lockedUntil))
                    && (failures.isEmpty() || failures.peekLast().isBefore(now.minus(window)));
        }
    }

    @Override
    public Principal createAuthenticatedPrincipal(String user, String password)
    {
        reload();
        long seenGeneration = generation;
        String digest = digest(user, password);
        Instant now = Instant.now();
        Attempts attempts = attemptsOf(user, now);
        if (verified.contains(digest)) {
            synchronized (attempts) {
                if (attempts.lockedUntil == null || !now.isBefore(attempts.lockedUntil)) {
                    return new BasicPrincipal(user);
                }
            }
        }
        // one bcrypt check at a time per user, behind the lockout check: parallel guesses cannot
        // outrun the count
        synchronized (attempts) {
            now = Instant.now();
            if (attempts.lockedUntil != null && now.isBefore(attempts.lockedUntil)) {
                record(user, "auth.locked", now);
                throw new AccessDeniedException("Too many failed sign-ins; try again later");
            }
            String hash = hashes.get(user);
            if (matches(password, hash == null ? UNKNOWN_USER_HASH : hash) && hash != null) {
                attempts.failures.clear();
                synchronized (this) {
                    if (generation == seenGeneration) {  // not a password the file has since changed
                        Set<String> next = new HashSet<>(verified);
                        next.add(digest);
                        verified = Set.copyOf(next);
                    }
                }
                return new BasicPrincipal(user);
            }
            attempts.failures.addLast(now);
            while (!attempts.failures.isEmpty() && attempts.failures.peekFirst().isBefore(now.minus(lockout))) {
                attempts.failures.removeFirst();
            }
            boolean locks = attempts.failures.size() >= maxFailures && !exempt.contains(user);
            if (locks) {
                attempts.lockedUntil = now.plus(lockout);
            }
            record(user, locks ? "auth.lockout" : "auth.failed", now);
        }
        throw new AccessDeniedException("Invalid credentials");
    }

    private Attempts attemptsOf(String user, Instant now)
    {
        if (attempts.size() > MAX_TRACKED) {
            // guessed names must not exhaust memory; only users with nothing current are forgotten
            attempts.entrySet().removeIf(entry -> {
                synchronized (entry.getValue()) {
                    return entry.getValue().stale(now, lockout);
                }
            });
        }
        return attempts.computeIfAbsent(user, ignored -> new Attempts());
    }

    /** bcrypt, with an unknown user checked against a dummy hash (same time, same answer). */
    private static boolean matches(String password, String hash)
    {
        try {
            return BCrypt.verifyer().verify(password.toCharArray(), hash.toCharArray()).verified;
        }
        catch (IllegalArgumentException e) {
            return false;  // e.g. a password longer than bcrypt takes: a failed sign-in like any other
        }
    }

    private synchronized void reload()
    {
        try {
            FileTime modified = Files.getLastModifiedTime(passwordFile);
            if (modified.equals(loadedAt)) {
                return;
            }
            Map<String, String> next = new HashMap<>();
            for (String line : Files.readAllLines(passwordFile, StandardCharsets.UTF_8)) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    next.put(line.substring(0, colon), line.substring(colon + 1).strip());
                }
            }
            hashes = Map.copyOf(next);
            verified = Set.of();  // a removed user or a changed password ends every remembered sign-in
            generation++;
            loadedAt = modified;
        }
        catch (IOException e) {
            throw new UncheckedIOException("cannot read the password file " + passwordFile, e);
        }
    }

    /** One spool file per sign-in event, fsync'd, named so the receiver takes it in order. */
    private void record(String user, String action, Instant at)
    {
        String safeUser = user.codePoints().limit(64)
                .map(c -> c < 0x20 || c == '"' || c == '\\' ? '_' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        String body = "{\"received_at\": \"" + at + "\"}\n"
                + "{\"govlake_sign_in\": {\"user\": \"" + safeUser + "\", \"action\": \"" + action + "\", \"at\": \"" + at
                + "\", \"source\": \"trino\"}}";
        try {
            AuditSpool.write(spool, "", body);
        }
        catch (IOException e) {
            // the sign-in is refused either way; without a record it must not pass silently
            throw new AccessDeniedException("Sign-in refused and could not be recorded");
        }
    }

    private static String digest(String user, String password)
    {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(user.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
