package dev.warden.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

/** An async route step that throws before calling back still ends the route, with the exception on it. */
class RouteStepTest {
    @Test
    void aStepThatThrowsCallsBackWithTheException() throws Exception {
        try (DefaultCamelContext ctx = new DefaultCamelContext()) {
            Exchange ex = new DefaultExchange(ctx);
            List<Boolean> done = new ArrayList<>();
            RouteStep step = new RouteStep() {
                @Override
                protected boolean step(Exchange exchange, AsyncCallback callback) {
                    throw new IllegalStateException("catalog lookup exploded");
                }
            };
            boolean sync = step.process(ex, done::add);
            assertThat(sync).isTrue();
            assertThat(done).containsExactly(true);
            assertThat(ex.getException()).isInstanceOf(IllegalStateException.class).hasMessage("catalog lookup exploded");
        }
    }

    @Test
    void aStepThatCallsBackLaterIsLeftAlone() throws Exception {
        try (DefaultCamelContext ctx = new DefaultCamelContext()) {
            Exchange ex = new DefaultExchange(ctx);
            List<Boolean> done = new ArrayList<>();
            AsyncCallback[] later = new AsyncCallback[1];
            RouteStep step = new RouteStep() {
                @Override
                protected boolean step(Exchange exchange, AsyncCallback callback) {
                    later[0] = callback;
                    return false;
                }
            };
            assertThat(step.process(ex, done::add)).isFalse();
            assertThat(done).isEmpty();
            later[0].done(false);
            assertThat(done).containsExactly(false);
            assertThat(ex.getException()).isNull();
        }
    }
}
