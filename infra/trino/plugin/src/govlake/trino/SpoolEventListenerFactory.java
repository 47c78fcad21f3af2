package govlake.trino;

import io.trino.spi.eventlistener.EventListener;
import io.trino.spi.eventlistener.EventListenerFactory;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Configuration (etc/govlake-event-listener.properties):
 * <pre>
 * event-listener.name=govlake-spool
 * govlake.audit-spool=...          folder the audit receiver drains
 * </pre>
 */
public final class SpoolEventListenerFactory
        implements EventListenerFactory
{
    @Override
    public String getName()
    {
        return "govlake-spool";
    }

    @Override
    public EventListener create(Map<String, String> config, EventListenerContext context)
    {
        Map<String, String> left = new HashMap<>(config);
        String spool = left.remove("govlake.audit-spool");
        if (spool == null || spool.isBlank()) {
            throw new IllegalArgumentException("the govlake-spool event listener needs `govlake.audit-spool`");
        }
        if (!left.isEmpty()) {
            throw new IllegalArgumentException("unknown properties of the govlake-spool event listener: " + left.keySet());
        }
        return new SpoolEventListener(Path.of(spool));
    }
}
