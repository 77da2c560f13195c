package dev.warden.audit;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What an attacker with write access to the store (but not the signing key) can do. Records live in
 * blocks, so the attacker reads the chain's records, changes them, and writes the blocks back with
 * consistent columns (first/last position, times) — the careful attacker — unless a test changes a
 * column on purpose.
 */
final class Tamper {
    /** Records per block when writing back (several per block, as the writer stores them). */
    private static final int PER_BLOCK = 7;

    private final Connection c;
    private final String instance;
    /** The chain as the attacker edits it: position i holds the record at seq i + first. */
    private final List<StoredRecord> chain = new ArrayList<>();

    Tamper(Connection c, String instance) throws SQLException {
        this.c = c;
        this.instance = instance;
        RecordScan.chain(c, instance, Long.MIN_VALUE, Long.MAX_VALUE, r -> chain.add(r));
    }

    long maxSeq() {
        return chain.isEmpty() ? 0 : chain.get(chain.size() - 1).seq();
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

    private int index(long seq) {
        for (int i = 0; i < chain.size(); i++) {
            if (chain.get(i).seq() == seq) {
                return i;
            }
        }
        throw new IllegalArgumentException("no record " + seq);
    }

    StoredRecord record(long seq) {
        return chain.get(index(seq));
    }

    byte[] hash(long seq) {
        return record(seq).hash();
    }

    private void set(int i, StoredRecord r) {
        chain.set(i, r);
    }

    private static StoredRecord with(StoredRecord r, long seq, Instant at, String type, byte[] body, byte[] prev,
                                     byte[] hash) {
        return new StoredRecord(r.instance(), seq, at, type, body, prev, hash);
    }

    /** Writes the edited chain back: every block of the instance replaced, columns consistent with contents. */
    void save() throws SQLException {
        update("DELETE FROM audit_block WHERE instance_id = ?", instance);
        for (int from = 0; from < chain.size(); from += PER_BLOCK) {
            List<StoredRecord> part = chain.subList(from, Math.min(chain.size(), from + PER_BLOCK));
            writeBlock(instance, part);
        }
    }

    private void writeBlock(String inst, List<StoredRecord> part) throws SQLException {
        Long pruneTo = null;
        for (StoredRecord r : part) {
            if (RecordCodec.PRUNE.equals(r.type())) {
                try {
                    pruneTo = r.projection().refSeq();
                } catch (RuntimeException ignored) {
                    // a broken body: no prune position
                }
            }
        }
        StoreSql.insertStored(c, inst, part, pruneTo);
    }

    /**
     * Changes one hex digit of the record id inside the hashed body (valid, canonical JSON; hash now
     * wrong).
     */
    void modifyBody(long seq) throws SQLException {
        int i = index(seq);
        StoredRecord r = chain.get(i);
        set(i, with(r, r.seq(), r.at(), r.type(), changedId(r.body()), r.prevHash(), r.hash()));
        save();
    }

    /** Flips a byte of the stored hash or previous hash of a record. */
    void modifyHash(long seq, boolean prev, int at, byte mask) throws SQLException {
        int i = index(seq);
        StoredRecord r = chain.get(i);
        byte[] h = (prev ? r.prevHash() : r.hash()).clone();
        h[at] ^= mask;
        set(i, prev ? with(r, r.seq(), r.at(), r.type(), r.body(), h, r.hash())
                : with(r, r.seq(), r.at(), r.type(), r.body(), r.prevHash(), h));
        save();
    }

    /** Changes a record's frame header (time or type) without touching the hashed body. */
    void modifyHeader(long seq, boolean time) throws SQLException {
        int i = index(seq);
        StoredRecord r = chain.get(i);
        set(i, time ? with(r, r.seq(), Instant.parse("2030-01-01T00:00:00Z"), r.type(), r.body(), r.prevHash(), r.hash())
                : with(r, r.seq(), r.at(), RecordCodec.STATEMENT.equals(r.type()) ? RecordCodec.SESSION
                : RecordCodec.STATEMENT, r.body(), r.prevHash(), r.hash()));
        save();
    }

    /** Changes a column of the block that holds {@code seq} (min_at, max_at, first_seq, last_seq, prune_to). */
    void modifyBlockColumn(long seq, String column, Object value) throws SQLException {
        update("UPDATE audit_block SET " + column + " = ? WHERE instance_id = ? AND first_seq <= ? AND last_seq >= ?",
                value, instance, seq, seq);
    }

    static byte[] changedId(byte[] bytes) {
        String body = new String(bytes, StandardCharsets.UTF_8);
        int i = body.indexOf("\"id\":\"") + 6;
        char ch = body.charAt(i) == 'a' ? 'b' : 'a';
        return (body.substring(0, i) + ch + body.substring(i + 1)).getBytes(StandardCharsets.UTF_8);
    }

    /** Recomputes every hash from {@code fromSeq} on, as an attacker would after changing content. */
    void rechain(long fromSeq) throws SQLException {
        int i = index(fromSeq);
        byte[] prev = i == 0 ? (fromSeq == 1 ? new byte[32] : chain.get(0).prevHash()) : chain.get(i - 1).hash();
        for (; i < chain.size(); i++) {
            StoredRecord r = chain.get(i);
            byte[] h = sha(prev, r.body());
            set(i, with(r, r.seq(), r.at(), r.type(), r.body(), prev, h));
            prev = h;
        }
        save();
    }

    /** Replaces the body's seq; returns a body claiming position {@code seq}. */
    static byte[] withSeq(byte[] body, long seq) {
        String b = new String(body, StandardCharsets.UTF_8);
        return b.replaceFirst("\"seq\":\\d+", "\"seq\":" + seq).getBytes(StandardCharsets.UTF_8);
    }

    /** Shifts records from {@code p} on by +1 and inserts a forged, correctly linked record at {@code p}. */
    void insertAt(long p) throws SQLException {
        int i = index(p);
        for (int k = i; k < chain.size(); k++) {
            StoredRecord r = chain.get(k);
            set(k, with(r, r.seq() + 1, r.at(), r.type(), r.body(), r.prevHash(), r.hash()));
        }
        StoredRecord template = chain.get(i);
        byte[] body = changedId(withSeq(template.body(), p));
        byte[] prev = i == 0 ? template.prevHash() : chain.get(i - 1).hash();
        chain.add(i, with(template, p, template.at(), template.type(), body, prev, sha(prev, body)));
        save();
    }

    void delete(long p) throws SQLException {
        chain.remove(index(p));
        save();
    }

    void truncateFrom(long p) throws SQLException {
        int i = index(p);
        chain.subList(i, chain.size()).clear();
        save();
    }

    void deleteAndRenumber(long p) throws SQLException {
        int i = index(p);
        chain.remove(i);
        for (int k = i; k < chain.size(); k++) {
            StoredRecord r = chain.get(k);
            set(k, with(r, r.seq() - 1, r.at(), r.type(), r.body(), r.prevHash(), r.hash()));
        }
        save();
    }

    void swap(long a, long b) throws SQLException {
        int ia = index(a);
        int ib = index(b);
        StoredRecord ra = chain.get(ia);
        StoredRecord rb = chain.get(ib);
        set(ia, with(rb, a, rb.at(), rb.type(), rb.body(), rb.prevHash(), rb.hash()));
        set(ib, with(ra, b, ra.at(), ra.type(), ra.body(), ra.prevHash(), ra.hash()));
        save();
    }

    /** Moves record {@code p} into a block of another instance. */
    void moveToInstance(long p, String other) throws SQLException {
        StoredRecord r = chain.remove(index(p));
        save();
        writeBlock(other, List.of(new StoredRecord(other, r.seq(), r.at(), r.type(), r.body(), r.prevHash(), r.hash())));
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
            byte[] head = hash(old.seq());
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
