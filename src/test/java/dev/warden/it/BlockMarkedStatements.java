package dev.warden.it;

import dev.warden.proxy.RoundTrip;
import dev.warden.wire.FrontendCodec;
import dev.warden.wire.FrontendMessage;
import io.netty.buffer.ByteBuf;
import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Test-only route step: refuses the first Query or Parse whose SQL mentions "forbidden", so the wire
 * mechanics of a refusal can be tested independently of the policy engine.
 */
public final class BlockMarkedStatements implements Processor {
    @Override
    public void process(Exchange exchange) {
        RoundTrip rt = exchange.getIn().getBody(RoundTrip.class);
        List<ByteBuf> frames = rt.frames();
        for (int i = 0; i < frames.size(); i++) {
            FrontendMessage m = FrontendCodec.decode(frames.get(i));
            String sql = m instanceof FrontendMessage.Query q ? q.sql() : m instanceof FrontendMessage.Parse p ? p.sql() : null;
            if (sql != null && sql.contains("forbidden")) {
                rt.rejectFrom(i, "42501", "statement refused by test rule", "remove the word forbidden");
                return;
            }
        }
        rt.forward();
    }
}
