package dev.warden.wire;

import dev.warden.wire.BackendMessage.Authentication;
import dev.warden.wire.BackendMessage.RowDescription;
import dev.warden.wire.FrontendMessage.PasswordMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/** Generators of valid messages for the jqwik properties. */
final class WireArbitraries {

    private WireArbitraries() {
    }

    /** Strings the wire can carry: no NUL, no lone surrogates; mostly ASCII, some beyond the BMP. */
    static Arbitrary<String> text() {
        Arbitrary<String> ascii = Arbitraries.strings().withCharRange((char) 1, (char) 0x7F).ofMaxLength(40);
        Arbitrary<String> unicode = Arbitraries.integers().between(1, 0x10FFFF)
                .filter(cp -> cp < 0xD800 || cp > 0xDFFF)
                .list().ofMaxSize(12)
                .map(cps -> {
                    StringBuilder sb = new StringBuilder();
                    cps.forEach(sb::appendCodePoint);
                    return sb.toString();
                });
        return Arbitraries.frequencyOf(Tuple.of(3, ascii), Tuple.of(1, unicode));
    }

    static Arbitrary<String> nonEmptyText() {
        return text().filter(s -> !s.isEmpty());
    }

    static Arbitrary<byte[]> bytes(int maxSize) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxSize);
    }

    /** Column or parameter values, {@code null} standing for SQL NULL. */
    static Arbitrary<byte[][]> values() {
        return bytes(16).injectNull(0.2).list().ofMaxSize(6).map(l -> l.toArray(new byte[0][]));
    }

    static Arbitrary<short[]> shorts(int maxSize) {
        return Arbitraries.shorts().array(short[].class).ofMaxSize(maxSize);
    }

    /** Format codes allowed alongside {@code n} values: none, one for all, or one each. */
    static Arbitrary<short[]> formatsFor(int n) {
        return Arbitraries.oneOf(
                Arbitraries.just(new short[0]),
                Arbitraries.shorts().array(short[].class).ofSize(1),
                Arbitraries.shorts().array(short[].class).ofSize(n));
    }

    static Arbitrary<Byte> kind() {
        return Arbitraries.of((byte) 'S', (byte) 'P');
    }

    static Arbitrary<FrontendMessage> typedFrontend() {
        Arbitrary<FrontendMessage> bind = values().flatMap(v -> Combinators
                .combine(text(), text(), formatsFor(v.length), shorts(4))
                .as((portal, stmt, pf, rf) -> new FrontendMessage.Bind(portal, stmt, pf, v, rf)));
        Arbitrary<FrontendMessage> call = values().flatMap(v -> Combinators
                .combine(Arbitraries.integers(), formatsFor(v.length), Arbitraries.shorts())
                .as((oid, af, rf) -> new FrontendMessage.FunctionCall(oid, af, v, rf)));
        Arbitrary<FrontendMessage> password = Arbitraries.oneOf(
                bytes(40).filter(b -> b.length > 0).map(PasswordMessage::new),
                text().map(PasswordMessage::password),
                Combinators.combine(nonEmptyText(), bytes(40).injectNull(0.3)).as(PasswordMessage::saslInitialResponse));
        return Arbitraries.oneOf(List.of(
                text().map(FrontendMessage.Query::new),
                Combinators.combine(text(), text(), Arbitraries.integers().array(int[].class).ofMaxSize(6))
                        .as(FrontendMessage.Parse::new),
                bind,
                Combinators.combine(kind(), text()).as(FrontendMessage.Describe::new),
                Combinators.combine(text(), Arbitraries.integers()).as(FrontendMessage.Execute::new),
                Arbitraries.just(new FrontendMessage.Sync()),
                Arbitraries.just(new FrontendMessage.Flush()),
                Combinators.combine(kind(), text()).as(FrontendMessage.Close::new),
                bytes(64).map(FrontendMessage.CopyData::new),
                Arbitraries.just(new FrontendMessage.CopyDone()),
                text().map(FrontendMessage.CopyFail::new),
                call,
                password,
                Arbitraries.just(new FrontendMessage.Terminate())));
    }

    static Arbitrary<FrontendMessage> startupPhase() {
        Arbitrary<Map<String, String>> params = Combinators.combine(nonEmptyText(), text()).as(Map::entry)
                .list().ofMaxSize(6).uniqueElements(Map.Entry::getKey)
                .map(entries -> {
                    Map<String, String> m = new LinkedHashMap<>();
                    entries.forEach(e -> m.put(e.getKey(), e.getValue()));
                    return m;
                });
        Arbitrary<FrontendMessage> startup = Combinators
                .combine(Arbitraries.integers().between(0, 0xFFFF), params)
                .as((minor, p) -> new FrontendMessage.StartupMessage((3 << 16) | minor, p));
        return Arbitraries.oneOf(List.of(
                startup,
                Arbitraries.just(new FrontendMessage.SSLRequest()),
                Arbitraries.just(new FrontendMessage.GSSENCRequest()),
                Combinators.combine(Arbitraries.integers(), Arbitraries.integers()).as(FrontendMessage.CancelRequest::new)));
    }

    static Arbitrary<Map<Character, String>> diagnosticFields() {
        return Arbitraries.maps(Arbitraries.chars().range((char) 1, (char) 0xFF), text()).ofMaxSize(6)
                .map(LinkedHashMap::new);
    }

    static Arbitrary<RowDescription.Field> field() {
        return Combinators.combine(text(), Arbitraries.integers(), Arbitraries.shorts(), Arbitraries.integers(),
                Arbitraries.shorts(), Arbitraries.integers(), Arbitraries.shorts()).as(RowDescription.Field::new);
    }

    static Arbitrary<BackendMessage> authentication() {
        return Arbitraries.oneOf(List.of(
                Arbitraries.of(Authentication.ok(), Authentication.kerberosV5(), Authentication.cleartextPassword(),
                        Authentication.gss(), Authentication.sspi()),
                Arbitraries.bytes().array(byte[].class).ofSize(4).map(Authentication::md5Password),
                bytes(40).map(Authentication::gssContinue),
                nonEmptyText().list().ofMaxSize(3).map(Authentication::sasl),
                bytes(40).map(Authentication::saslContinue),
                bytes(40).map(Authentication::saslFinal)));
    }

    static Arbitrary<BackendMessage> backend() {
        Arbitrary<Integer> format = Arbitraries.integers().between(0, 255);
        return Arbitraries.oneOf(List.of(
                authentication(),
                Combinators.combine(Arbitraries.integers(), Arbitraries.integers()).as(BackendMessage.BackendKeyData::new),
                Arbitraries.just(new BackendMessage.BindComplete()),
                Arbitraries.just(new BackendMessage.CloseComplete()),
                text().map(BackendMessage.CommandComplete::new),
                bytes(64).map(BackendMessage.CopyData::new),
                Arbitraries.just(new BackendMessage.CopyDone()),
                Combinators.combine(format, shorts(5)).as(BackendMessage.CopyInResponse::new),
                Combinators.combine(format, shorts(5)).as(BackendMessage.CopyOutResponse::new),
                Combinators.combine(format, shorts(5)).as(BackendMessage.CopyBothResponse::new),
                values().map(BackendMessage.DataRow::new),
                Arbitraries.just(new BackendMessage.EmptyQueryResponse()),
                diagnosticFields().map(BackendMessage.ErrorResponse::new),
                diagnosticFields().map(BackendMessage.NoticeResponse::new),
                bytes(20).injectNull(0.3).map(BackendMessage.FunctionCallResponse::new),
                Combinators.combine(Arbitraries.integers(), text().list().ofMaxSize(4))
                        .as(BackendMessage.NegotiateProtocolVersion::new),
                Arbitraries.just(new BackendMessage.NoData()),
                Combinators.combine(Arbitraries.integers(), text(), text()).as(BackendMessage.NotificationResponse::new),
                Arbitraries.integers().array(int[].class).ofMaxSize(6).map(BackendMessage.ParameterDescription::new),
                Combinators.combine(text(), text()).as(BackendMessage.ParameterStatus::new),
                Arbitraries.just(new BackendMessage.ParseComplete()),
                Arbitraries.just(new BackendMessage.PortalSuspended()),
                Arbitraries.of('I', 'T', 'E').map(BackendMessage.ReadyForQuery::new),
                field().list().ofMaxSize(4).map(RowDescription::new)));
    }
}
