package dev.warden.recording;

import java.util.List;

/**
 * One step of a replayed session as psql would have shown it (plus what Warden decided). Only the
 * members that apply to the kind are set; texts are exactly as recorded (escape them when rendering).
 *
 * @param n         position in the session, from 1
 * @param kind      session | statement | result | notice | error | notification | copy-out | copy-in |
 *                  parameter | gap | unattested (what follows, up to the next chunk, is not attested by the
 *                  audit) | end
 * @param at        microseconds since the epoch when Warden saw it
 * @param text      statement text, notice/error message, copy summary, gap description
 * @param statements what Warden decided for each statement in a statement step (audit record, verdict, rules)
 * @param columns   result column names
 * @param rows      the first rows (text; binary values as \x hex)
 * @param rowCount  all rows the client received
 * @param tag       CommandComplete tag
 * @param sqlState  SQLSTATE of an error or notice
 * @param detail    DETAIL / hint / channel / parameter value, as applies
 * @param warden    true when Warden itself produced the message (a refusal, a hold notice, a gap)
 */
public record Step(int n, String kind, long at, String text, List<Decision> statements, List<String> columns,
                   List<List<String>> rows, long rowCount, String tag, String sqlState, String detail, boolean warden) {

    /** A statement's audit record and Warden's verdict on it. */
    public record Decision(String auditRecord, String verdict, List<String> rules, String text) {
    }
}
