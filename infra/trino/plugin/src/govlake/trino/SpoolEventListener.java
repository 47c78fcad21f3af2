package govlake.trino;

import io.trino.spi.eventlistener.ColumnInfo;
import io.trino.spi.eventlistener.EventListener;
import io.trino.spi.eventlistener.QueryCompletedEvent;
import io.trino.spi.eventlistener.QueryContext;
import io.trino.spi.eventlistener.QueryFailureInfo;
import io.trino.spi.eventlistener.QueryInputMetadata;
import io.trino.spi.eventlistener.QueryMetadata;
import io.trino.spi.eventlistener.TableInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.Iterator;

/**
 * Writes every completed query (finished, failed or refused) into govlake's audit spool as one
 * file, fsync'd, before Trino's event dispatch moves on: the audit receiver drains the spool into
 * the hash-chained audit log, each query once (keyed by its query id). Nothing depends on the
 * receiver being up or the store being free at that moment: a query completed while either is
 * down is in the spool and reaches the chain when it returns; the spool's backlog is the gap,
 * shown by `govlake status`. The file holds the fields the receiver reads (the same shape as the
 * HTTP event listener's JSON).
 */
final class SpoolEventListener
        implements EventListener
{
    private final Path spool;

    SpoolEventListener(Path spool)
    {
        this.spool = spool;
    }

    @Override
    public void queryCompleted(QueryCompletedEvent event)
    {
        StringBuilder out = new StringBuilder(1024);
        out.append("{\"received_at\": ").append(str(Instant.now().toString())).append("}\n");
        QueryMetadata meta = event.getMetadata();
        QueryContext context = event.getContext();
        out.append("{\"govlake_listener\": \"spool\", \"metadata\": {\"queryId\": ").append(str(meta.getQueryId()))
                .append(", \"query\": ").append(str(meta.getQuery()))
                .append(", \"queryState\": ").append(str(meta.getQueryState()))
                .append(", \"tables\": [");
        Iterator<TableInfo> tables = meta.getTables().iterator();
        while (tables.hasNext()) {
            TableInfo t = tables.next();
            out.append("{\"catalog\": ").append(str(t.getCatalog())).append(", \"schema\": ").append(str(t.getSchema()))
                    .append(", \"table\": ").append(str(t.getTable())).append(", \"directlyReferenced\": ").append(t.isDirectlyReferenced())
                    .append(", \"filters\": ").append(strings(t.getFilters())).append(", \"columns\": [");
            Iterator<ColumnInfo> columns = t.getColumns().iterator();
            while (columns.hasNext()) {
                ColumnInfo c = columns.next();
                out.append("{\"column\": ").append(str(c.getColumn())).append(", \"mask\": ").append(str(c.getMask().orElse(null))).append('}');
                if (columns.hasNext()) {
                    out.append(", ");
                }
            }
            out.append("]}");
            if (tables.hasNext()) {
                out.append(", ");
            }
        }
        out.append("]}, \"context\": {\"user\": ").append(str(context.getUser()))
                .append(", \"source\": ").append(str(context.getSource().orElse(null)))
                .append(", \"groups\": ").append(strings(context.getGroups())).append('}')
                .append(", \"statistics\": {\"wallTime\": ").append(event.getStatistics().getWallTime().toNanos() / 1e9)
                .append(", \"outputRows\": ").append(event.getStatistics().getOutputRows()).append('}')
                .append(", \"ioMetadata\": {\"inputs\": [");
        Iterator<QueryInputMetadata> inputs = event.getIoMetadata().getInputs().iterator();
        while (inputs.hasNext()) {
            QueryInputMetadata i = inputs.next();
            out.append("{\"catalogName\": ").append(str(i.getCatalogName())).append(", \"schema\": ").append(str(i.getSchema()))
                    .append(", \"table\": ").append(str(i.getTable())).append('}');
            if (inputs.hasNext()) {
                out.append(", ");
            }
        }
        out.append("]}");
        if (event.getFailureInfo().isPresent()) {
            QueryFailureInfo failure = event.getFailureInfo().get();
            out.append(", \"failureInfo\": {\"errorCode\": {\"name\": ").append(str(failure.getErrorCode().getName()))
                    .append("}, \"failureMessage\": ").append(str(failure.getFailureMessage().orElse(null))).append('}');
        }
        out.append(", \"createTime\": ").append(str(event.getCreateTime().toString()))
                .append(", \"endTime\": ").append(str(event.getEndTime().toString())).append('}');
        write(out.toString());
    }

    private void write(String body)
    {
        try {
            AuditSpool.write(spool, "q", body);
        }
        catch (IOException e) {
            throw new UncheckedIOException("govlake: a completed query could not be written to the audit spool " + spool, e);
        }
    }

    /** A JSON string (or null), every control character, quote and backslash escaped. */
    static String str(String value)
    {
        if (value == null) {
            return "null";
        }
        StringBuilder s = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        s.append(String.format("\\u%04x", (int) c));
                    }
                    else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }

    private static String strings(Collection<String> values)
    {
        StringBuilder s = new StringBuilder("[");
        Iterator<String> it = values.stream().sorted().iterator();
        while (it.hasNext()) {
            s.append(str(it.next()));
            if (it.hasNext()) {
                s.append(", ");
            }
        }
        return s.append(']').toString();
    }
}
