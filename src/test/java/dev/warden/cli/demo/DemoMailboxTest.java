package dev.warden.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.Date;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The demo's mail catcher over real SMTP: order, escaping, which links become anchors. */
class DemoMailboxTest {
    private static final String BASE = "http://127.0.0.1:8432";
    private DemoMailbox box;

    @BeforeEach
    void start() {
        box = DemoMailbox.start(BASE);
    }

    @AfterEach
    void stop() {
        box.close();
    }

    @Test
    void listsMailsNewestFirstWithEverythingEscapedAndOnlyWardenLinksClickable() throws Exception {
        assertThat(box.smtpPort()).isPositive();
        assertThat(box.page()).contains("0 mail(s)");
        send("older <b>subject</b>", "first body", new Date(1_700_000_000_000L));
        send("newer & \"quoted\"", String.join("\n",
                "Statement:",
                "    SELECT '<script>alert(1)</script>' -- see http://evil.example/phish?x=1",
                "To approve, open this link (it shows the request):",
                BASE + "/approvals/AR-ABC?t=tok.en_1-2",
                "To deny:",
                BASE + "/approvals/AR-ABC?t=other.tok", ""), new Date(1_700_000_060_000L));

        assertThat(box.mails()).extracting(DemoMailbox.Mail::subject)
                .containsExactly("newer & \"quoted\"", "older <b>subject</b>");
        String page = box.page();
        assertThat(page).contains("2 mail(s)");
        assertThat(page.indexOf("newer &amp; &quot;quoted&quot;")).isPositive()
                .isLessThan(page.indexOf("older &lt;b&gt;subject&lt;/b&gt;"));
        assertThat(page).doesNotContain("<b>subject</b>").doesNotContain("<script>")
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        // links into Warden are anchors (in the list and in the text), any other URL stays text
        assertThat(page).contains("<a href=\"" + BASE + "/approvals/AR-ABC?t=tok.en_1-2\">")
                .contains("<a href=\"" + BASE + "/approvals/AR-ABC?t=other.tok\">")
                .contains("http://evil.example/phish?x=1").doesNotContain("href=\"http://evil");
        assertThat(box.links(box.mails().get(0).body())).containsExactly(BASE + "/approvals/AR-ABC?t=tok.en_1-2",
                BASE + "/approvals/AR-ABC?t=other.tok");
        assertThat(page).contains("<li>To approve <a href=\"" + BASE + "/approvals/AR-ABC?t=tok.en_1-2\">")
                .contains("<li>To deny <a href=\"" + BASE + "/approvals/AR-ABC?t=other.tok\">");
        assertThat(page).contains("To</th><td>dba@bank.example");
    }

    private void send(String subject, String body, Date sent) throws Exception {
        Properties p = new Properties();
        p.setProperty("mail.smtp.host", "127.0.0.1");
        p.setProperty("mail.smtp.port", Integer.toString(box.smtpPort()));
        MimeMessage m = new MimeMessage(Session.getInstance(p));
        m.setFrom(new InternetAddress("warden@bank.example"));
        m.setRecipient(Message.RecipientType.TO, new InternetAddress("dba@bank.example"));
        m.setSubject(subject, "UTF-8");
        m.setText(body, "UTF-8");
        m.setSentDate(sent);
        Transport.send(m);
    }
}
