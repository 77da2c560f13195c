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
                default -> {
                    if (hidden(c)) {
                        // bidi overrides, zero-width and separator characters could make the reviewer read
                        // another statement than the one that runs: shown as visible escapes
                        b.append("<mark title=\"invisible character\">\\u").append(String.format("%04X", (int) c))
                                .append("</mark>");
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /** Characters that render as nothing or reorder text: format (Cf), line/paragraph separators, controls but \n \t. */
    public static boolean hidden(char c) {
        int t = Character.getType(c);
        return t == Character.FORMAT || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR
                || (t == Character.CONTROL && c != '\n' && c != '\t' && c != '\r');
    }

    /** Plain-text form of {@link #esc}'s rule: hidden characters as {@code \\uXXXX}. */
    public static String visible(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (hidden(c)) {
                b.append("\\u").append(String.format("%04X", (int) c));
            } else {
                b.append(c);
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
