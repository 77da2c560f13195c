package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.it.RawPgClient.Bytes;
import dev.warden.it.RawPgClient.Msg;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Security review: Warden (PreparedStatements, ResultMasker) records a named statement's text when
 * the client SENDS Parse, but PostgreSQL refuses a Parse of a name that exists (42P05) and keeps
 * the old statement. Re-parsing a name with harmless text desynchronises Warden from the server.
 * Warden now refuses the re-Parse (42P05), as PostgreSQL would.
 */
class MaskingReparseIT {
    @BeforeAll
    static void start() throws Exception {
        MaskingIT.start();
    }

    @AfterAll
    static void stop() {
        MaskingIT.stop();
    }

    static byte[] parse(String name, String sql) {
        return Bytes.of().cstr(name).cstr(sql).i16(0).typed('P');
    }

    static byte[] bind(String portal, String stmt) {
        return Bytes.of().cstr(portal).cstr(stmt).i16(0).i16(0).i16(0).typed('B');
    }

    static byte[] describePortal(String portal) {
        return Bytes.of().i8('P').cstr(portal).typed('D');
    }

    static byte[] execute(String portal) {
        return Bytes.of().cstr(portal).i32(0).typed('E');
    }

    static String dataRows(List<Msg> msgs) {
        StringBuilder b = new StringBuilder();
        for (Msg m : msgs) {
            if (m.type() == 'D') {
                b.append(new String(m.body(), StandardCharsets.ISO_8859_1)).append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void reparsedNameReadsSsnUnmasked() {
        try (RawPgClient raw = RawPgClient.login(MaskingIT.gw.port(), TestGateway.USER, TestGateway.PASSWORD, "bank", "review")) {
            // 1. a masked-by-lineage statement: computed column, no table OID in its RowDescription
            raw.write(parse("s1", "SELECT ssn || '' AS x FROM customers ORDER BY id"), RawPgClient.sync());
            raw.readUntil('Z');
            // control: run it normally, values are masked
            raw.write(bind("", "s1"), describePortal(""), execute(""), RawPgClient.sync());
            String masked = dataRows(raw.readUntil('Z'));
            assertThat(masked).doesNotContain(MaskingIT.SSNS[0]);
            // 2. "re-parse" s1 with harmless text: PostgreSQL answers 42P05 and keeps the old s1
            raw.write(parse("s1", "SELECT 'harmless'::text AS x"), RawPgClient.sync());
            List<Msg> err = raw.readUntil('Z');
            assertThat(err.stream().anyMatch(m -> m.isError() && "42P05".equals(m.sqlState()))).isTrue();
            // 3. run s1: the server runs the ssn query, Warden plans masking for the harmless text
            raw.write(bind("", "s1"), describePortal(""), execute(""), RawPgClient.sync());
            String out = dataRows(raw.readUntil('Z'));
            assertThat(out).as("protected values reached the client").doesNotContain(MaskingIT.SSNS[0])
                    .doesNotContain(MaskingIT.SSNS[1]);
        }
    }
}
