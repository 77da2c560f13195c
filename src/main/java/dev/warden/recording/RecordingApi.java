package dev.warden.recording;

import java.util.List;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/** Placeholder until the web replay lands. */
public final class RecordingApi implements Processor {
    public RecordingApi(RecordingIndex index, RecordingSettings settings, List<String> apiKeys) {
    }

    @Override
    public void process(Exchange exchange) {
        exchange.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 404);
    }
}
