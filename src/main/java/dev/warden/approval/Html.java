package dev.warden.approval;

/**
 * Minimal HTML page building: everything that is not a literal of the caller goes through {@link #esc}.
 * Used by the reviewers' pages and the demo's mail catcher page.
 */
public final class Html {
    private Html() {
    }

    /** Escapes text for element content and double-quoted attribute values. */
    public static String esc(Object o) {
        if (o == null) {
            return "";
        }
        String s = o.toString();
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    public static String page(String title, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<meta name=\"referrer\" content=\"no-referrer\">"
                + "<title>" + esc(title) + "</title><style>"
                + "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
                + "pre{background:#f4f4f4;padding:1rem;overflow:auto;white-space:pre-wrap;word-break:break-all}"
                + "table{border-collapse:collapse}td,th{text-align:left;padding:.25rem .75rem .25rem 0;vertical-align:top}"
                + ".state{font-weight:bold}.error{color:#a00}textarea{width:100%}"
                + "button{font-size:1rem;padding:.5rem 1.5rem}"
                + "</style></head><body>\n<h1>" + esc(title) + "</h1>\n" + body + "\n</body></html>\n";
    }
}
