package dev.warden.report;

import dev.warden.report.ReportSettings.Format;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Renders a report in each format and writes each file with its signature beside it. */
public final class ReportFiles {
    private ReportFiles() {
    }

    public static byte[] render(EvidenceReport r, Format f) {
        return switch (f) {
            case JSON -> ReportJson.render(r);
            case CSV -> ReportCsv.render(r);
            case HTML -> ReportHtml.render(r);
            case PDF -> ReportPdf.render(r);
        };
    }

    /** {@code dir/report.<ext>} and {@code dir/report.<ext>.sig} per format; returns the files by format. */
    public static Map<Format, Path> write(EvidenceReport r, Path dir, List<Format> formats, KeyPair key)
            throws IOException {
        Map<Format, Path> out = new LinkedHashMap<>();
        for (Format f : formats) {
            Path file = dir.resolve("report." + f.extension());
            ReportSignature.write(file, r.id(), render(r, f), key.getPrivate(), key.getPublic());
            out.put(f, file);
        }
        return out;
    }
}
