package govlake.trino;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.trino.spi.security.AccessDeniedException;
import io.trino.spi.security.BasicPrincipal;
import io.trino.spi.security.PasswordAuthenticator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
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
import java.util.concurrent.atomic.AtomicLong;

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
    private static final AtomicLong SEQUENCE = new AtomicLong();
    private static final int MAX_TRACKED = 10_000;

    private final Path passwordFile;
    private final Path spool;
    private final int maxFailures;
    private final Duration lockout;
    private final Set<String> exempt;
    private final Map<String, Deque<Instant>> failures = new ConcurrentHashMap<>();
    private final Map<String, Instant> lockedUntil = new ConcurrentHashMap<>();

    private volatile FileTime loadedAt;
    private volatile Map<String, String> hashes = Map.of();
    private volatile Set<String> verified = Set.of();

    SignInAuthenticator(Path passwordFile, Path spool, int maxFailures, Duration lockout, Set<String> exempt)
    {
        this.exempt = exempt;
        this.passwordFile = passwordFile;
        this.spool = spool;
        this.maxFailures = maxFailures;
        this.lockout = lockout;
        reload();
    }

    @Override
    public Principal createAuthenticatedPrincipal(String user, String password)
    {
        reload();
        Instant now = Instant.now();
        Instant until = lockedUntil.get(user);
        if (until != null && now.isBefore(until)) {
            record(user, "auth.locked", now);
            throw new AccessDeniedException("Too many failed sign-ins; try again later");
        }
        String digest = digest(user, password);
        if (verified.contains(digest)) {
            return new BasicPrincipal(user);
        }
        String hash = hashes.get(user);
        if (hash != null && BCrypt.verifyer().verify(password.toCharArray(), hash.toCharArray()).verified) {
            failures.remove(user);
            synchronized (this) {
                Set<String> next = new HashSet<>(verified);
                next.add(digest);
                verified = Set.copyOf(next);
            }
            return new BasicPrincipal(user);
        }
        if (failures.size() > MAX_TRACKED) {
            failures.keySet().removeIf(name -> !lockedUntil.containsKey(name));  // guessed names must not exhaust memory
        }
        Deque<Instant> recent = failures.computeIfAbsent(user, ignored -> new ArrayDeque<>());
        boolean locks;
        synchronized (recent) {
            recent.addLast(now);
            while (!recent.isEmpty() && recent.peekFirst().isBefore(now.minus(lockout))) {
                recent.removeFirst();
            }
            locks = recent.size() >= maxFailures && !exempt.contains(user);
        }
        if (locks) {
            lockedUntil.put(user, now.plus(lockout));
        }
        record(user, locks ? "auth.lockout" : "auth.failed", now);
        throw new AccessDeniedException("Invalid credentials");
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
        String name = String.format("%020d-trino-%06d", System.currentTimeMillis() * 1_000_000L, SEQUENCE.incrementAndGet() % 1_000_000);
        Path part = spool.resolve(name + ".part");
        try {
            Files.createDirectories(spool, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            try (FileChannel channel = FileChannel.open(part, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                channel.write(java.nio.ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
                channel.force(true);
            }
            Files.move(part, spool.resolve(name + ".json"), StandardCopyOption.ATOMIC_MOVE);
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
