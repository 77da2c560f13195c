package dev.warden.proxy;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Warden gives every client its own BackendKeyData (never the upstream's, which would let a client
 * cancel queries on a server connection it does not own once connections are pooled) and maps a
 * CancelRequest back to the session it names.
 */
final class CancelRegistry {
    private final ConcurrentHashMap<Integer, ClientSession> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random;

    CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /** Registers a session under a fresh positive process id and returns it. */
    int register(ClientSession session) {
        while (true) {
            int pid = 1 + random.nextInt(Integer.MAX_VALUE - 1);
            if (sessions.putIfAbsent(pid, session) == null) {
                return pid;
            }
        }
    }

    void unregister(int pid, ClientSession session) {
        sessions.remove(pid, session);
    }

    /** The session to cancel, or null when the key does not match (compared in constant time). */
    ClientSession find(int pid, int secret) {
        ClientSession s = sessions.get(pid);
        if (s == null) {
            return null;
        }
        byte[] a = intBytes(s.cancelSecret());
        byte[] b = intBytes(secret);
        return MessageDigest.isEqual(a, b) ? s : null;
    }

    int size() {
        return sessions.size();
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
