package dev.warden.wire;

import dev.warden.wire.WireTestSupport.Bytes;
import java.util.List;

/**
 * Hand-built client frames with the exact verdict expected from both {@link FrontendCodec#decode}
 * and {@link FrontendValidator#check}.
 */
final class FrontendCases {

    record Case(String name, byte[] frame, String expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    private FrontendCases() {
    }

    private static Case c(String name, byte[] frame, String expected) {
        return new Case(name, frame, expected);
    }

    /** Frames that must be refused, with the reason word for word. */
    static List<Case> malformed() {
        return List.of(
                // header
                c("empty frame", new byte[0], "message is 0 bytes long, shorter than the 5-byte type and length header"),
                c("3-byte Sync", new byte[] {'S', 0, 0},
                        "Sync message is 3 bytes long, shorter than the 5-byte type and length header"),
                c("length below 4", Bytes.of().i8('S').i32(3).body(), "Sync message declares length 3, less than the minimum of 4"),
                c("length beyond frame", Bytes.of().i8('Q').i32(100).cstr("ab").body(),
                        "Query message declares length 100 but only 7 bytes follow the type byte"),
                c("bytes beyond length", Bytes.of().i8('S').i32(4).raw(1, 2).body(),
                        "Sync message declares length 4 but 2 extra bytes follow it"),
                c("unknown type", Bytes.of().typed('z'), "unknown frontend message type 'z'"),
                c("unknown unprintable type", Bytes.of().typed((char) 0), "unknown frontend message type 0x00"),
                c("backend-only type", Bytes.of().i8('I').typed('Z'), "unknown frontend message type 'Z'"),
                c("unknown type, bad length", Bytes.of().i8('z').i32(99).body(),
                        "message of type 'z' declares length 99 but only 4 bytes follow the type byte"),
                // Query
                c("Query without NUL", Bytes.of().str("SELECT 1").typed('Q'), "Query message has an unterminated query string"),
                c("Query with trailing bytes", Bytes.of().cstr("SELECT 1").str("xy").typed('Q'),
                        "Query message has 2 unexpected trailing bytes"),
                c("Query with bad UTF-8", Bytes.of().str("SELECT '").raw(0xC3, 0x28).str("'").i8(0).typed('Q'),
                        "Query message has invalid UTF-8 in its query string"),
                c("Query with overlong NUL", Bytes.of().str("SELECT 1;").raw(0xC0, 0x80).str("DROP").i8(0).typed('Q'),
                        "Query message has invalid UTF-8 in its query string"),
                c("Query with encoded surrogate", Bytes.of().raw(0xED, 0xA0, 0x80).i8(0).typed('Q'),
                        "Query message has invalid UTF-8 in its query string"),
                c("Query beyond U+10FFFF", Bytes.of().raw(0xF4, 0x90, 0x80, 0x80).i8(0).typed('Q'),
                        "Query message has invalid UTF-8 in its query string"),
                c("Query with cut sequence", Bytes.of().str("caf").raw(0xC3).i8(0).typed('Q'),
                        "Query message has invalid UTF-8 in its query string"),
                // Parse
                c("Parse types beyond end", Bytes.of().cstr("s1").cstr("select $1").i16(2).i32(23).typed('P'),
                        "Parse message declares 2 parameter types but the message ends after 1"),
                c("Parse without type count", Bytes.of().cstr("s1").cstr("select 1").typed('P'),
                        "Parse message ends inside its parameter type count (2 bytes needed, 0 left)"),
                c("Parse unterminated name", Bytes.of().str("s1").typed('P'), "Parse message has an unterminated statement name"),
                c("Parse with trailing bytes", Bytes.of().cstr("").cstr("select 1").i16(0).i8(7).typed('P'),
                        "Parse message has 1 unexpected trailing byte"),
                // Bind
                c("Bind values beyond end", Bytes.of().cstr("").cstr("").i16(0).i16(3).i32(1).str("a").i32(-1).typed('B'),
                        "Bind message declares 3 parameter values but the message ends after 2"),
                c("Bind value length -2", Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(-2).i16(0).typed('B'),
                        "Bind message has invalid length -2 for parameter value 1"),
                c("Bind value beyond end", Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(100).raw(1, 2, 3).typed('B'),
                        "Bind message has parameter value 1 declaring 100 bytes but only 3 remain"),
                c("Bind format count mismatch", Bytes.of().cstr("").cstr("").i16(2).i16(1).i16(1).i16(3).i32(-1).i32(-1)
                        .i32(-1).i16(0).typed('B'), "Bind message has 2 parameter format codes but 3 parameter values"),
                c("Bind without result formats", Bytes.of().cstr("").cstr("").i16(0).i16(0).typed('B'),
                        "Bind message ends inside its result format codes count (2 bytes needed, 0 left)"),
                c("Bind result formats beyond end", Bytes.of().cstr("").cstr("").i16(0).i16(0).i16(3).i16(0).typed('B'),
                        "Bind message declares 3 result format codes but the message ends after 1"),
                c("Bind formats beyond end", Bytes.of().cstr("p").cstr("s").i16(5).i16(1).typed('B'),
                        "Bind message declares 5 parameter format codes but the message ends after 1"),
                c("Bind with trailing byte", Bytes.of().cstr("").cstr("").i16(0).i16(0).i16(0).i8(9).typed('B'),
                        "Bind message has 1 unexpected trailing byte"),
                c("Bind unterminated statement", Bytes.of().cstr("portal").str("stmt").typed('B'),
                        "Bind message has an unterminated statement name"),
                // Describe, Close, Execute
                c("Describe kind X", Bytes.of().i8('X').cstr("s").typed('D'),
                        "Describe message has kind 'X' where 'S' or 'P' is expected"),
                c("Describe empty", Bytes.of().typed('D'), "Describe message ends inside its kind (1 byte needed, 0 left)"),
                c("Close unterminated name", Bytes.of().i8('S').str("stmt").typed('C'), "Close message has an unterminated name"),
                c("Close kind NUL", Bytes.of().i8(0).cstr("").typed('C'),
                        "Close message has kind 0x00 where 'S' or 'P' is expected"),
                c("Execute without full limit", Bytes.of().cstr("").i16(0).typed('E'),
                        "Execute message ends inside its row limit (4 bytes needed, 2 left)"),
                c("Execute trailing byte", Bytes.of().cstr("").i32(0).i8(1).typed('E'), "Execute message has 1 unexpected trailing byte"),
                // bodiless messages
                c("Sync with body", Bytes.of().i8(0).typed('S'), "Sync message has 1 unexpected trailing byte"),
                c("Flush with body", Bytes.of().i16(0).typed('H'), "Flush message has 2 unexpected trailing bytes"),
                c("CopyDone with body", Bytes.of().i8(1).typed('c'), "CopyDone message has 1 unexpected trailing byte"),
                c("Terminate with body", Bytes.of().i32(0).typed('X'), "Terminate message has 4 unexpected trailing bytes"),
                // CopyFail, FunctionCall, PasswordMessage
                c("CopyFail unterminated", Bytes.of().str("oops").typed('f'), "CopyFail message has an unterminated error message"),
                c("FunctionCall format mismatch", Bytes.of().i32(1234).i16(2).i16(0).i16(1).i16(3).i32(-1).i32(0).i32(-1)
                        .i16(0).typed('F'), "FunctionCall message has 2 argument format codes but 3 argument values"),
                c("FunctionCall without result format", Bytes.of().i32(1).i16(0).i16(1).i32(-1).typed('F'),
                        "FunctionCall message ends inside its result format code (2 bytes needed, 0 left)"),
                c("FunctionCall args beyond end", Bytes.of().i32(1).i16(0).i16(2).i32(2).raw(1, 2).typed('F'),
                        "FunctionCall message declares 2 arguments but the message ends after 1"),
                c("FunctionCall truncated OID", Bytes.of().i16(0).typed('F'),
                        "FunctionCall message ends inside its function OID (4 bytes needed, 2 left)"),
                c("empty PasswordMessage", Bytes.of().typed('p'), "PasswordMessage message is empty"));
    }

    /** Unusual but valid frames: both must accept them. */
    static List<Case> valid() {
        return List.of(
                c("empty Query", Bytes.of().cstr("").typed('Q'), null),
                c("Query with 4-byte UTF-8", Bytes.of().cstr("SELECT '\uD83D\uDE00 caf\u00E9 \u4E2D'").typed('Q'), null),
                c("long ASCII Query", Bytes.of().cstr("SELECT * FROM a_rather_long_table_name WHERE x = 1").typed('Q'), null),
                c("Bind, one format for all", Bytes.of().cstr("").cstr("s").i16(1).i16(1).i16(3).i32(-1).i32(0).i32(2).raw(7, 0)
                        .i16(0).typed('B'), null),
                c("Bind with NUL inside a value", Bytes.of().cstr("").cstr("").i16(0).i16(1).i32(3).raw(0, 0, 0).i16(1).i16(1)
                        .typed('B'), null),
                c("Parse with types", Bytes.of().cstr("").cstr("select $1, $2").i16(2).i32(0).i32(25).typed('P'), null),
                c("Execute, negative limit", Bytes.of().cstr("c1").i32(-5).typed('E'), null),
                c("Describe portal", Bytes.of().i8('P').cstr("").typed('D'), null),
                c("empty CopyData", Bytes.of().typed('d'), null),
                c("CopyData of anything", Bytes.of().raw(0, 0xFF, 0xC0, 0x80).typed('d'), null),
                c("one-byte PasswordMessage", Bytes.of().i8(0).typed('p'), null),
                c("FunctionCall without args", Bytes.of().i32(1598).i16(0).i16(0).i16(1).typed('F'), null),
                c("Sync", Bytes.of().typed('S'), null),
                c("Terminate", Bytes.of().typed('X'), null));
    }
}
