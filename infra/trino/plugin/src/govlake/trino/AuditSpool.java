package govlake.trino;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * govlake's audit spool as the plugin writes it: one file per event, written to `.part`,
 * fsync'd, then renamed to `.json`, named by time so the receiver takes files in order. The
 * receiver (govlake/services/audit_receiver.py) drains the folder into the audit chain.
 */
final class AuditSpool
{
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private AuditSpool() {}

    /** Writes `body` as one spool file; `kind` tells the writers apart in the file name. */
    static void write(Path spool, String kind, String body)
            throws IOException
    {
        String name = String.format("%020d-trino-%s%06d", System.currentTimeMillis() * 1_000_000L, kind, SEQUENCE.incrementAndGet() % 1_000_000);
        Path part = spool.resolve(name + ".part");
        Files.createDirectories(spool, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try (FileChannel channel = FileChannel.open(part, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            channel.write(ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
        Files.move(part, spool.resolve(name + ".json"), StandardCopyOption.ATOMIC_MOVE);
    }
}
