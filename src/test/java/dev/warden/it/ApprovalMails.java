package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading approval mails in tests: the body as text, the request id, and the labelled links. */
final class ApprovalMails {
    private ApprovalMails() {
    }

    /** The body with quoted-printable soft breaks and escapes decoded (GreenMail hands it over raw). */
    static String decode(String s) {
        if (!s.contains("=\r\n") && !s.contains("=3D")) {
            return s;
        }
        try {
            var in = jakarta.mail.internet.MimeUtility.decode(new java.io.ByteArrayInputStream(
                    s.getBytes(StandardCharsets.US_ASCII)), "quoted-printable");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The AR-… id the mail names. */
    static String approvalId(String mail) {
        Matcher m = Pattern.compile("AR-[A-Za-z0-9]+").matcher(mail);
        assertThat(m.find()).as(mail).isTrue();
        return m.group();
    }

    /** The link on the line after the one that starts with {@code label} ("To approve", "To deny"). */
    static String link(String mailBody, String label) {
        Matcher m = Pattern.compile(label + "[^\\n]*\\n(http://\\S+)").matcher(mailBody.replace("\r\n", "\n"));
        assertThat(m.find()).as("a %s link in %s", label, mailBody).isTrue();
        return m.group(1);
    }
}
