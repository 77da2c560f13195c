package dev.warden.cli.demo;

import static dev.warden.approval.Html.esc;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.warden.approval.Html;
import jakarta.mail.Address;
import jakarta.mail.BodyPart;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Date;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * The demo's mail catcher: an SMTP server in this JVM (GreenMail) on a free port of 127.0.0.1, which
 * accepts every mail for any address, and its inbox as an HTML page — bean {@code demoMailPage} of
 * {@code routes/http/demo/mail.camel.yaml}, served at {@code /demo/mail} only by {@code ./warden demo}
 * (the gateway loads routes/http/demo/ only when the demo binds its beans). Newest mail first; every
 * text of a mail is HTML-escaped, and only links into Warden itself ({@code linkBase}) become anchors.
 */
public final class DemoMailbox implements Processor, AutoCloseable {
    /** Route bean name in routes/http/demo/mail.camel.yaml. */
    public static final String BEAN = "demoMailPage";
    public static final String PATH = "/demo/mail";
    private static final int SHOWN = 200;
    private static final Pattern URL = Pattern.compile("https?://[^\\s<>\"']+");

    private final GreenMail smtp;
    private final String linkBase;

    private DemoMailbox(GreenMail smtp, String linkBase) {
        this.smtp = smtp;
        this.linkBase = linkBase.endsWith("/") ? linkBase : linkBase + "/";
    }

    /** Starts the SMTP catcher on a free port of 127.0.0.1; links under {@code linkBase} are made clickable. */
    public static DemoMailbox start(String linkBase) {
        GreenMail g = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        g.start();
        return new DemoMailbox(g, linkBase);
    }

    public int smtpPort() {
        return smtp.getSmtp().getPort();
    }

    /** One received mail, as the page shows it. */
    public record Mail(Instant sent, String from, String to, String subject, String body) {
    }

    /** The received mails, newest first (by their Date header; equal dates: later arrival first). */
    public List<Mail> mails() {
        MimeMessage[] received = smtp.getReceivedMessages();
        List<Mail> out = new ArrayList<>(received.length);
        for (int i = received.length - 1; i >= 0; i--) {
            out.add(read(received[i]));
        }
        out.sort(Comparator.comparing(Mail::sent, Comparator.nullsLast(Comparator.reverseOrder())));
        return out;
    }

    private static Mail read(MimeMessage m) {
        try {
            Date sent = m.getSentDate();
            return new Mail(sent == null ? null : sent.toInstant(), addresses(m.getFrom()),
                    addresses(m.getAllRecipients()), m.getSubject(), text(m));
        } catch (Exception e) {
            return new Mail(null, "?", "?", "(unreadable mail)", String.valueOf(e.getMessage()));
        }
    }

    private static String addresses(Address[] a) {
        return a == null ? "" : Arrays.stream(a).map(Address::toString).collect(Collectors.joining(", "));
    }

    /** The first text part, transfer encoding undone. */
    private static String text(Part p) throws Exception {
        Object content = p.getContent();
        if (content instanceof String s) {
            return s;
        }
        if (content instanceof Multipart mp) {
            for (int i = 0; i < mp.getCount(); i++) {
                BodyPart part = mp.getBodyPart(i);
                if (part.isMimeType("text/*") || part.isMimeType("multipart/*")) {
                    String s = text(part);
                    if (s != null) {
                        return s;
                    }
                }
            }
        }
        return null;
    }

    @Override
    public void process(Exchange exchange) {
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        out.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        out.setHeader("Cache-Control", "no-store");
        out.setHeader("Referrer-Policy", "no-referrer"); // the approval links carry their token in the URL
        out.setHeader("X-Frame-Options", "DENY");
        out.setHeader("X-Content-Type-Options", "nosniff");
        out.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        out.setBody(page());
    }

    /** The inbox page. */
    public String page() {
        List<Mail> mails = mails();
        StringBuilder b = new StringBuilder();
        b.append("<p>").append(mails.size()).append(" mail(s) caught by the demo's SMTP server on 127.0.0.1:")
                .append(smtpPort()).append(", newest first. Reload after running a held statement. ")
                .append("This page exists only in <code>./warden demo</code>; with a real SMTP server the reviewers ")
                .append("get these mails (docs/approvals.md).</p>");
        int n = 0;
        for (Mail m : mails) {
            if (n++ == SHOWN) {
                b.append("<p>(").append(mails.size() - SHOWN).append(" older mail(s) not shown)</p>");
                break;
            }
            b.append("<section class=\"mail\"><h2>").append(esc(m.subject())).append("</h2><table>");
            row(b, "From", m.from());
            row(b, "To", m.to());
            row(b, "Sent", m.sent());
            b.append("</table>");
            List<Link> links = labelledLinks(m.body());
            if (!links.isEmpty()) {
                b.append("<ul class=\"links\">");
                for (Link l : links) {
                    b.append("<li>").append(esc(l.label())).append(l.label().isEmpty() ? "" : " ")
                            .append("<a href=\"").append(esc(l.url())).append("\">").append(esc(l.url())).append("</a></li>");
                }
                b.append("</ul>");
            }
            b.append("<pre>").append(linked(m.body() == null ? "" : m.body())).append("</pre></section>");
        }
        return Html.page("Demo mail", b.toString());
    }

    /** A link into Warden and what the mail says about it (the text before it on its line, or the line above). */
    record Link(String label, String url) {
    }

    /** Links into Warden (under linkBase) in the mail's text, in order. */
    List<String> links(String body) {
        return labelledLinks(body).stream().map(Link::url).toList();
    }

    List<Link> labelledLinks(String body) {
        List<Link> out = new ArrayList<>();
        if (body != null) {
            Matcher m = URL.matcher(body);
            while (m.find()) {
                if (m.group().startsWith(linkBase)) {
                    out.add(new Link(label(body, m.start()), m.group()));
                }
            }
        }
        return out;
    }

    private static String label(String body, int at) {
        int lineStart = body.lastIndexOf('\n', at - 1) + 1;
        String label = body.substring(lineStart, at).strip();
        if (label.isEmpty() && lineStart > 0) {
            int prev = body.lastIndexOf('\n', lineStart - 2) + 1;
            label = body.substring(prev, lineStart - 1).strip();
        }
        if (label.contains(",")) { // "To approve, open this link (...):" -> "To approve"
            label = label.substring(0, label.indexOf(','));
        }
        if (label.endsWith(":")) {
            label = label.substring(0, label.length() - 1);
        }
        return label.length() > 80 ? label.substring(0, 80) + "…" : label;
    }

    /** The text escaped, with links into Warden as anchors; any other URL stays text. */
    private String linked(String body) {
        StringBuilder b = new StringBuilder();
        Matcher m = URL.matcher(body);
        int at = 0;
        while (m.find()) {
            b.append(esc(body.substring(at, m.start())));
            String url = m.group();
            if (url.startsWith(linkBase)) {
                b.append("<a href=\"").append(esc(url)).append("\">").append(esc(url)).append("</a>");
            } else {
                b.append(esc(url));
            }
            at = m.end();
        }
        return b.append(esc(body.substring(at))).toString();
    }

    private static void row(StringBuilder b, String k, Object v) {
        b.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v == null ? "-" : v)).append("</td></tr>");
    }

    @Override
    public void close() {
        smtp.stop();
    }
}
