package dev.warden.audit;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What an attacker with write access to the store (but not the signing key) can do, by direct SQL. */
final class Tamper {
    static final List<String> CONTENT_COLUMNS = List.of("record_id", "kind", "event", "at", "session_id", "ref_id",
            "ref_seq", "subject", "issuer", "repository", "actor", "target", "client_addr", "verdict", "sqlstate",
            "body", "prev_hash", "hash");

    private final Connection c;
    private final String instance;

    Tamper(Connection c, String instance) {
        this.c = c;
        this.instance = instance;
    }

    long maxSeq() throws SQLException {
        return scalar("SELECT MAX(seq) FROM audit_record WHERE instance_id = '" + instance + "'");
    }

    long maxCheckpoint() throws SQLException {
        return scalar("SELECT MAX(number) FROM audit_checkpoint WHERE instance_id = '" + instance + "'");
    }

    long scalar(String q) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(q)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    int update(String q, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            return ps.executeUpdate();
        }
    }

    byte[] bytes(String column, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM audit_record WHERE instance_id = ? AND seq = ?")) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBytes(1);
            }
        }
    }

    Map<String, Object> row(long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + String.join(", ", CONTENT_COLUMNS)
                + " FROM audit_record WHERE instance_id = ? AND seq = ?")) {
            ps.setString(1, instance);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Map<String, Object> m = new LinkedHashMap<>();
                for (String col : CONTENT_COLUMNS) {
                    m.put(col, rs.getObject(col));
                }
                return m;
            }
        }
    }

    void writeRow(long seq, Map<String, Object> values) throws SQLException {
        List<Object> args = new ArrayList<>(values.values());
        args.add(instance);
        args.add(seq);
        update("UPDATE audit_record SET " + String.join(" = ?, ", values.keySet()) + " = ? WHERE instance_id = ? AND seq = ?",
                args.toArray());
    }

    /**
     * Changes one hex digit of the record id inside the hashed body (valid, canonical JSON; hash now
     * wrong) and, like a careful attacker, the record_id column to match.
     */
    void modifyBody(long seq) throws SQLException {
        byte[] body = changedId(bytes("body", seq));
        writeRow(seq, Map.of("body", body, "record_id", idOf(body)));
    }

    static byte[] changedId(byte[] bytes) {
        String body = new String(bytes, StandardCharsets.UTF_8);
        int i = body.indexOf("\"id\":\"") + 6;
        char ch = body.charAt(i) == 'a' ? 'b' : 'a';
        return (body.substring(0, i) + ch + body.substring(i + 1)).getBytes(StandardCharsets.UTF_8);
    }

    static String idOf(byte[] body) {
        String b = new String(body, StandardCharsets.UTF_8);
        int i = b.indexOf("\"id\":\"") + 6;
        return b.substring(i, b.indexOf('"', i));
    }

    /** Recomputes every hash from {@code fromSeq} on, as an attacker would after changing content. */
    void rechain(long fromSeq) throws SQLException {
        byte[] prev = fromSeq == 1 ? new byte[32] : bytes("hash", fromSeq - 1);
        for (long s = fromSeq; s <= maxSeq(); s++) {
            byte[] body = bytes("body", s);
            byte[] h = sha(prev, body);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prev_hash", prev);
            m.put("hash", h);
            writeRow(s, m);
            prev = h;
        }
    }

    /** Replaces the body's seq and recomputes the id; returns a body claiming position {@code seq}. */
    static byte[] withSeq(byte[] body, long seq) {
        String b = new String(body, StandardCharsets.UTF_8);
        return b.replaceFirst("\"seq\":\\d+", "\"seq\":" + seq).getBytes(StandardCharsets.UTF_8);
    }

    /** Shifts records from {@code p} on by +1 and inserts a forged, correctly linked record at {@code p}. */
    void insertAt(long p) throws SQLException {
        for (long s = maxSeq(); s >= p; s--) {
            update("UPDATE audit_record SET seq = ? WHERE instance_id = ? AND seq = ?", s + 1, instance, s);
        }
        Map<String, Object> template = row(p + 1);
        byte[] body = changedId(withSeq((byte[]) template.get("body"), p));
        template.put("record_id", idOf(body));
        byte[] prev = p == 1 ? new byte[32] : bytes("hash", p - 1);
        template.put("body", body);
        template.put("prev_hash", prev);
        template.put("hash", sha(prev, body));
        List<String> cols = new ArrayList<>(template.keySet());
        List<Object> args = new ArrayList<>(template.values());
        args.add(instance);
        args.add(p);
        update("INSERT INTO audit_record (" + String.join(", ", cols) + ", instance_id, seq) VALUES ("
                + "?, ".repeat(cols.size()) + "?, ?)", args.toArray());
    }

    void deleteAndRenumber(long p) throws SQLException {
        update("DELETE FROM audit_record WHERE instance_id = ? AND seq = ?", instance, p);
        long max = maxSeq();
        for (long s = p + 1; s <= max; s++) {
            update("UPDATE audit_record SET seq = ? WHERE instance_id = ? AND seq = ?", s - 1, instance, s);
        }
    }

    void swap(long a, long b) throws SQLException {
        Map<String, Object> ra = row(a);
        Map<String, Object> rb = row(b);
        writeRow(a, rb);
        writeRow(b, ra);
    }

    /** Signs every checkpoint again with another key, over the chain as it now stands. */
    void resignAll(KeyPair other) throws SQLException {
        List<Checkpoint> cps = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + StoreSql.CHECKPOINT_COLUMNS
                + " FROM audit_checkpoint WHERE instance_id = ? ORDER BY number")) {
            ps.setString(1, instance);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cps.add(StoreSql.checkpoint(rs));
                }
            }
        }
        String keyId = SigningKeys.keyId(other.getPublic());
        for (Checkpoint old : cps) {
            byte[] head = bytes("hash", old.seq());
            Checkpoint n = Checkpoint.sign(instance, old.number(), old.seq(), head, old.time(), other.getPrivate(), keyId);
            update("UPDATE audit_checkpoint SET head_hash = ?, key_id = ?, body = ?, signature = ? "
                    + "WHERE instance_id = ? AND number = ?", n.head(), keyId, n.body(), n.signature(), instance, old.number());
        }
    }

    static byte[] sha(byte[] prev, byte[] body) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(prev);
            return d.digest(body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
