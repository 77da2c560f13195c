package dev.warden.report;

import java.util.List;

/**
 * The guidance each report section serves, quoted by name (docs/reports.md maps them). Section
 * titles and these names are the examiner's index into the report.
 */
final class Guidance {
    static final String IS_LOG = "FFIEC IT Examination Handbook, Information Security (2016), II.C.22 Log Management";
    static final String IS_ACCESS = "FFIEC IT Examination Handbook, Information Security (2016), II.C.7 / II.C.15 access rights and privileged access";
    static final String AUTH_2021 = "FFIEC Authentication and Access to Financial Institution Services and Systems (2021)";
    static final String AIO_CHANGE = "FFIEC IT Examination Handbook, Architecture, Infrastructure, and Operations (2021), change management";
    static final String PCI_ACCESS = "PCI DSS v3.2.1 10.2 (v4.0 10.2.1): audit trail of access to cardholder data";
    static final String PCI_ADMIN = "PCI DSS v3.2.1 10.2.2 (v4.0 10.2.1.2): actions with administrative privileges";
    static final String PCI_FAILED = "PCI DSS v3.2.1 10.2.4 (v4.0 10.2.1.4): invalid logical access attempts";
    static final String PCI_PROTECT = "PCI DSS v3.2.1 10.5 (v4.0 10.3): audit trails protected from modification";
    static final String PCI_REVIEW = "PCI DSS v3.2.1 10.6 (v4.0 10.4): log review";

    static final List<String> ACTIVITY = List.of(IS_LOG, AUTH_2021 + ": monitoring, logging and reporting");
    static final List<String> IDENTITIES = List.of(AUTH_2021 + ": identify every user and system, including service accounts and automated jobs",
            IS_ACCESS);
    static final List<String> CLASSIFIED = List.of(IS_ACCESS, PCI_ACCESS);
    static final List<String> PRIVILEGED = List.of(AIO_CHANGE, IS_ACCESS, PCI_ADMIN);
    static final List<String> EXCEPTIONS = List.of(AUTH_2021 + ": track unauthorized access", PCI_FAILED, IS_LOG);
    static final List<String> INTEGRITY = List.of(IS_LOG + ": logs protected from modification", PCI_PROTECT);
    static final List<String> EFFECTIVENESS = List.of(AUTH_2021 + ": periodic evaluation of control effectiveness",
            AIO_CHANGE);
    static final List<String> SIGN_OFF = List.of(IS_LOG + ": independent review of logs", PCI_REVIEW);

    private Guidance() {
    }
}
