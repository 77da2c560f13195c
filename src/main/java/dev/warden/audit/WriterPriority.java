package dev.warden.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lowers the calling thread's scheduling priority (its Linux nice value), for the audit writer.
 *
 * <p>Why: with batched durability nobody waits for the writer, yet it competes for the same CPUs as
 * the event loops, PostgreSQL and the clients. On a small machine the session's threads then wait
 * behind the writer's commit bursts: at 1 client on 2 vCPUs the event loop waited ~3 µs longer per
 * statement for a CPU (docs/performance.md 19.). A niced writer is preempted at once when a session
 * thread wakes and still gets the idle time, which under load is plenty, since it only needs a few
 * µs per record.
 *
 * <p>How: Java has no call for a thread's nice value, so this runs {@code renice} on the thread's
 * own id (read from {@code /proc/thread-self}), found at a fixed path (never through {@code PATH}).
 * A process may always raise its nice value; lowering it back needs privileges, which is why the
 * writer is niced once at start and never reset. Where there is no {@code /proc/thread-self} or no
 * renice, the writer stays at normal priority and the result says why.
 */
final class WriterPriority {
    private static final List<Path> RENICE = List.of(Path.of("/usr/bin/renice"), Path.of("/bin/renice"));
    private static final Path SELF = Path.of("/proc/thread-self");

    private WriterPriority() {
    }

    /** What happened: the thread's nice value afterwards (null when unknown) and a sentence for the log. */
    record Result(Integer nice, String message) {
    }

    /** Sets the calling thread's nice value to {@code target} (1 to 19) unless it is already at least that. */
    static Result lower(int target) {
        if (target < 1 || target > 19) {
            throw new IllegalArgumentException("nice value 1 to 19, got " + target);
        }
        String tid;
        int before;
        try {
            tid = threadId();
            before = nice();
        } catch (IOException | RuntimeException e) {
            return new Result(null, "cannot read this thread's id and nice value (" + e.getMessage()
                    + "; /proc/thread-self is Linux only)");
        }
        if (before >= target) {
            return new Result(before, "thread " + tid + " already runs at nice " + before);
        }
        Path renice = RENICE.stream().filter(Files::isExecutable).findFirst().orElse(null);
        if (renice == null) {
            return new Result(before, "no renice at " + RENICE + " (util-linux or busybox); it stays at nice " + before);
        }
        // without -n the value is absolute for util-linux and busybox alike (with -n, POSIX and busybox
        // read an increment); the result is read back below either way
        String arg = Integer.toString(target);
        try {
            Process p = new ProcessBuilder(renice.toString(), arg, "-p", tid)
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(5, TimeUnit.SECONDS);
            String out = new String(p.getInputStream().readNBytes(2000), StandardCharsets.UTF_8).trim();
            if (!done) {
                p.destroyForcibly();
                return new Result(before, renice + " did not finish within 5 s; it stays at nice " + before);
            }
            int after = nice();
            if (after != target) {
                return new Result(after, renice + " " + arg + " -p " + tid + " left it at nice " + after
                        + (out.isEmpty() ? "" : " (" + out + ")"));
            }
            return new Result(after, "thread " + tid + " runs at nice " + after);
        } catch (IOException | RuntimeException e) {
            // never let the writer die over its priority (a sandbox may forbid starting processes)
            return new Result(before, "running " + renice + " failed (" + e + "); it stays at nice " + before);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(null, "interrupted while running " + renice);
        }
    }

    /** The calling thread's Linux thread id. */
    static String threadId() throws IOException {
        // /proc/thread-self -> "<pid>/task/<tid>"
        String link = Files.readSymbolicLink(SELF).toString();
        String tid = link.substring(link.lastIndexOf('/') + 1);
        if (!tid.matches("\\d{1,10}")) {
            throw new IOException("unexpected /proc/thread-self -> " + link);
        }
        return tid;
    }

    /** The calling thread's nice value (field 19 of /proc/thread-self/stat). */
    static int nice() throws IOException {
        return niceOf(Files.readString(SELF.resolve("stat"), StandardCharsets.US_ASCII));
    }

    /** Field 19 of a /proc/.../stat line; the command name (field 2) may hold spaces and parentheses. */
    static int niceOf(String stat) {
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            throw new IllegalArgumentException("not a /proc stat line");
        }
        String[] f = stat.substring(close + 2).trim().split(" ");
        // f[0] is field 3 (state), so field 19 is f[16]
        return Integer.parseInt(f[16]);
    }
}
