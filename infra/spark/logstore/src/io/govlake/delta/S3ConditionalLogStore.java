package io.govlake.delta;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.util.Iterator;

import io.delta.storage.S3SingleDriverLogStore;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FSDataOutputStreamBuilder;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;

/**
 * A Delta LogStore for S3 that is safe with any number of writers in any number of processes.
 *
 * <p>A commit file {@code _delta_log/N.json} is created with a put-if-absent: S3A's conditional
 * create (HADOOP-19256, Hadoop 3.4.2+), asked for with the createFile() builder option
 * {@code fs.option.create.conditional.overwrite}, makes the PUT (or CompleteMultipartUpload) carry
 * {@code If-None-Match: *}. The store accepts exactly one of several racing PUTs of the same key;
 * the others get 412 Precondition Failed, which S3A raises as RemoteFileChangedException. That
 * becomes {@link FileAlreadyExistsException}, which Delta's commit treats as a lost race: it
 * reads the winning commits, checks them for conflicts and retries at the next version.
 *
 * <p>{@link S3SingleDriverLogStore} instead checks {@code exists()} and then PUTs, serialised only
 * by a lock inside one JVM, so two drivers can both write version N and one commit is lost.
 *
 * <p>Reading and listing are inherited: S3 listings are strongly consistent, and listFrom uses
 * S3A's startAfter listing when {@code delta.enableFastS3AListFrom} is set. A PUT becomes visible
 * whole or not at all, so partial writes are never visible.
 *
 * <p>Requires {@code fs.s3a.create.conditional.enabled} (default true) and a store that honours
 * {@code If-None-Match: *}; a file system without the capability is refused rather than written
 * without the guarantee.
 */
public class S3ConditionalLogStore extends S3SingleDriverLogStore {

    /** The createFile() option (Options.CreateFileOptionKeys) asking for a put-if-absent. */
    static final String CONDITIONAL_CREATE = Options.CreateFileOptionKeys.FS_OPTION_CREATE_CONDITIONAL_OVERWRITE;

    /** S3A's translation of a 412 Precondition Failed (hadoop-aws, not needed to compile). */
    private static final String REMOTE_FILE_CHANGED = "org.apache.hadoop.fs.s3a.RemoteFileChangedException";

    public S3ConditionalLogStore(Configuration hadoopConf) {
        super(hadoopConf);
    }

    @Override
    public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration hadoopConf) throws IOException {
        final FileSystem fs = path.getFileSystem(hadoopConf);
        final Path resolved = stripUserInfo(fs.makeQualified(path));
        if (overwrite) {
            // only non-commit files (_last_checkpoint, ...): last writer wins, like every LogStore
            try (FSDataOutputStream out = fs.create(resolved, true)) {
                writeActions(out, actions);
            }
            return;
        }
        if (!fs.hasPathCapability(resolved, CONDITIONAL_CREATE)) {
            throw new IOException(
                "S3ConditionalLogStore: the file system of " + resolved + " (" + fs.getClass().getName()
                + ") cannot create a file only if it is absent (path capability " + CONDITIONAL_CREATE
                + "); with S3A set fs.s3a.create.conditional.enabled=true, or use another LogStore for this scheme");
        }
        FSDataOutputStream out;
        try {
            FSDataOutputStreamBuilder<?, ?> builder = fs.createFile(resolved);
            builder.overwrite(false);
            builder.recursive();  // no parent probe: S3 has no directories to check
            builder.must(CONDITIONAL_CREATE, true);
            out = builder.build();
        } catch (IOException e) {
            throw asConflict(resolved, e);
        }
        boolean written = false;
        try {
            writeActions(out, actions);
            written = true;
        } finally {
            if (!written) {
                // never let close() upload a partial commit file: abort drops the buffered data
                abortQuietly(out);
            }
        }
        try {
            out.close();  // the conditional PUT happens here
        } catch (IOException e) {
            throw asConflict(resolved, e);
        }
    }

    @Override
    public Boolean isPartialWriteVisible(Path path, Configuration hadoopConf) {
        return false;
    }

    private static void writeActions(FSDataOutputStream out, Iterator<String> actions) throws IOException {
        while (actions.hasNext()) {
            out.write((actions.next() + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void abortQuietly(FSDataOutputStream out) {
        try {
            if (out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
                out.abort();
            }
        } catch (RuntimeException ignored) {
            // the original failure is the one to report
        }
    }

    /**
     * The exception to raise for a failed conditional create: a FileAlreadyExistsException when
     * the store refused it because the object exists (412) or because a concurrent conditional
     * write of the same key is in progress (AWS's 409 ConditionalRequestConflict; Delta then
     * re-lists and retries the same version if nobody else won), else the original.
     */
    static IOException asConflict(Path path, IOException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof org.apache.hadoop.fs.FileAlreadyExistsException
                    || t instanceof FileAlreadyExistsException
                    || REMOTE_FILE_CHANGED.equals(t.getClass().getName())
                    || message.contains("ConditionalRequestConflict")) {
                FileAlreadyExistsException conflict = new FileAlreadyExistsException(path.toString(), null,
                    "another writer created it first (" + t.getClass().getSimpleName() + ")");
                conflict.initCause(e);
                return conflict;
            }
        }
        return e;
    }

    /** The path without user info (keys in a URI), as S3SingleDriverLogStore resolves it. */
    private static Path stripUserInfo(Path path) {
        URI uri = path.toUri();
        try {
            return new Path(new URI(uri.getScheme(), null, uri.getHost(), uri.getPort(), uri.getPath(),
                uri.getQuery(), uri.getFragment()));
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
