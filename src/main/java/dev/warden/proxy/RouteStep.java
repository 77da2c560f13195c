package dev.warden.proxy;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.AsyncProcessorSupport;

/**
 * An asynchronous step of the statements route. Camel does not catch what an async processor throws
 * before it calls back (its reactive executor logs it and carries on), which would leave the session
 * waiting for a decision forever; here the exception goes onto the exchange and the route ends, so
 * Warden refuses the statement (fail closed) and logs why.
 */
abstract class RouteStep extends AsyncProcessorSupport {
    @Override
    public final boolean process(Exchange exchange, AsyncCallback callback) {
        try {
            return step(exchange, callback);
        } catch (RuntimeException | Error e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
    }

    /** The step itself: calls {@code callback} exactly once, now (returns true) or later (returns false). */
    protected abstract boolean step(Exchange exchange, AsyncCallback callback);
}
