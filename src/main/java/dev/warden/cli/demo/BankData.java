package dev.warden.cli.demo;

import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * (Over ~400 lines because most of it is the sample data itself: name, street and merchant lists.)
 *
 * Sample retail-bank data set for {@code ./warden demo}.
 *
 * <p>{@link #load(Connection)} (re)creates four tables in the connected database's current schema
 * ({@code customers}, {@code accounts}, {@code cards}, {@code transactions}) and fills them from a
 * fixed-seed {@link Random}, so every load produces exactly the same rows. Nothing is read from
 * files or the network; rows are streamed with {@code COPY ... FROM STDIN} and the whole load takes
 * well under a few seconds.
 *
 * <p>All values are synthetic: e-mail addresses use the reserved {@code example.*} domains, card
 * numbers use made-up BINs (but pass the Luhn check), routing numbers use made-up prefixes (but pass
 * the ABA checksum), SSNs avoid the never-issued area numbers 000, 666 and 900-999.
 *
 * <p>Sensitive columns carry a {@code COMMENT ON COLUMN} that starts with {@value #SENSITIVE_TAG}.
 *
 * <p>One file on purpose: it is the demo data set (schema, generators and their checksums); most of
 * its length is data.
 */
public final class BankData {

    /** Fixed seed: changing it changes every generated row. */
    public static final long SEED = 0x5EED_BA4CL;

    public static final int CUSTOMERS = 2_000;
    public static final int TRANSACTIONS = 20_000;

    /** Prefix of the column comment put on every sensitive column. */
    public static final String SENSITIVE_TAG = "SENSITIVE";

    /** Tables created by {@link #load}, parents first. */
    public static final List<String> TABLES = List.of("customers", "accounts", "cards", "transactions");

    /** Reference "today" of the data set: nothing is dated after it. */
    static final LocalDate AS_OF = LocalDate.of(2025, 6, 30);

    private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    // ---------------------------------------------------------------- built-in word lists

    private static final String[] FIRST_NAMES = {
        "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
        "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
        "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
        "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily",
        "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
        "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
        "Edward", "Sharon", "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary", "Angela",
        "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Brenda", "Stephen", "Pamela", "Larry",
        "Emma", "Justin", "Nicole", "Scott", "Helen", "Brandon", "Samantha", "Benjamin", "Katherine",
        "Samuel", "Christine", "Gregory", "Debra", "Alexander", "Rachel", "Patrick", "Carolyn",
        "Frank", "Janet", "Raymond", "Maria", "Jack", "Olivia", "Dennis", "Heather", "Jerry", "Diane",
        "Luis", "Sofia", "Wei", "Mei", "Arjun", "Priya", "Hiroshi", "Yuki", "Omar", "Fatima"
    };

    private static final String[] LAST_NAMES = {
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
        "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
        "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
        "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
        "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
        "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
        "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy",
        "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed",
        "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez",
        "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
        "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Chen", "Wang", "Singh", "Tanaka"
    };

    private static final String[] MIDDLE_INITIALS = {"A", "B", "C", "D", "E", "F", "G", "H", "J", "K",
        "L", "M", "N", "P", "R", "S", "T", "W"};

    private static final String[] STREET_NAMES = {
        "Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Walnut",
        "Sunset", "Lincoln", "Jackson", "Church", "River", "Highland", "Willow", "Meadow", "Forest",
        "Spring", "Franklin", "Chestnut", "Jefferson", "Madison", "Ridge", "Valley", "Adams", "Center",
        "Prospect", "Birch", "Harbor", "Mill", "Union", "Broad", "Summit"
    };

    private static final String[] STREET_SUFFIXES = {"St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way",
        "Pl", "Ter"};

    /** City, state, first three ZIP digits, telephone area code. */
    private static final String[][] CITIES = {
        {"New York", "NY", "100", "212"}, {"Brooklyn", "NY", "112", "718"},
        {"Buffalo", "NY", "142", "716"}, {"Los Angeles", "CA", "900", "213"},
        {"San Diego", "CA", "921", "619"}, {"San Francisco", "CA", "941", "415"},
        {"Sacramento", "CA", "958", "916"}, {"Chicago", "IL", "606", "312"},
        {"Springfield", "IL", "627", "217"}, {"Houston", "TX", "770", "713"},
        {"Dallas", "TX", "752", "214"}, {"Austin", "TX", "787", "512"},
        {"San Antonio", "TX", "782", "210"}, {"Phoenix", "AZ", "850", "602"},
        {"Tucson", "AZ", "857", "520"}, {"Philadelphia", "PA", "191", "215"},
        {"Pittsburgh", "PA", "152", "412"}, {"Jacksonville", "FL", "322", "904"},
        {"Miami", "FL", "331", "305"}, {"Tampa", "FL", "336", "813"},
        {"Orlando", "FL", "328", "407"}, {"Columbus", "OH", "432", "614"},
        {"Cleveland", "OH", "441", "216"}, {"Indianapolis", "IN", "462", "317"},
        {"Charlotte", "NC", "282", "704"}, {"Raleigh", "NC", "276", "919"},
        {"Seattle", "WA", "981", "206"}, {"Spokane", "WA", "992", "509"},
        {"Denver", "CO", "802", "303"}, {"Boston", "MA", "021", "617"},
        {"Nashville", "TN", "372", "615"}, {"Memphis", "TN", "381", "901"},
        {"Detroit", "MI", "482", "313"}, {"Portland", "OR", "972", "503"},
        {"Las Vegas", "NV", "891", "702"}, {"Baltimore", "MD", "212", "410"},
        {"Milwaukee", "WI", "532", "414"}, {"Albuquerque", "NM", "871", "505"},
        {"Atlanta", "GA", "303", "404"}, {"Minneapolis", "MN", "554", "612"},
        {"Kansas City", "MO", "641", "816"}, {"St. Louis", "MO", "631", "314"},
        {"Omaha", "NE", "681", "402"}, {"New Orleans", "LA", "701", "504"},
        {"Salt Lake City", "UT", "841", "801"}, {"Richmond", "VA", "232", "804"},
        {"Hartford", "CT", "061", "860"}, {"Newark", "NJ", "071", "973"}
    };

    private static final String[] EMAIL_DOMAINS = {"example.com", "example.net", "example.org",
        "mail.example.com", "inbox.example.net"};

    /**
     * First eight digits of the bank's routing numbers: a Federal Reserve routing symbol (01-12 or
     * 21-32), an office digit and an institution id. The ninth (check) digit is computed.
     */
    private static final String[] ROUTING_PREFIXES = {
        "02100731", "02610452", "07100918", "11300037", "12204219", "26107463", "06300817", "32207551"
    };

    /** Issuer identification numbers (made up): Visa 4xxxxx, Mastercard 51xxxx-55xxxx. */
    private static final String[] CARD_BINS = {"414720", "426684", "453971", "489537", "518274",
        "527361", "535514", "546829", "552208"};

    /** merchant, category, min amount (cents), max amount (cents), description template. */
    private record Merchant(String name, String category, long minCents, long maxCents, String kind) {
    }

    private static final Merchant[] MERCHANTS = {
        new Merchant("Whole Foods Market", "groceries", 1_200, 28_000, "POS"),
        new Merchant("Trader Joe's", "groceries", 900, 16_000, "POS"),
        new Merchant("Safeway", "groceries", 700, 22_000, "POS"),
        new Merchant("Kroger", "groceries", 600, 24_000, "POS"),
        new Merchant("Costco Wholesale", "groceries", 3_000, 60_000, "POS"),
        new Merchant("Starbucks", "dining", 350, 2_400, "POS"),
        new Merchant("Chipotle", "dining", 900, 4_500, "POS"),
        new Merchant("McDonald's", "dining", 400, 3_000, "POS"),
        new Merchant("Olive Garden", "dining", 2_500, 14_000, "POS"),
        new Merchant("DoorDash", "dining", 1_500, 9_000, "WEB"),
        new Merchant("Shell", "fuel", 2_000, 9_500, "POS"),
        new Merchant("Chevron", "fuel", 2_000, 10_000, "POS"),
        new Merchant("ExxonMobil", "fuel", 1_800, 9_000, "POS"),
        new Merchant("Amazon.com", "shopping", 500, 40_000, "WEB"),
        new Merchant("Target", "shopping", 800, 30_000, "POS"),
        new Merchant("Walmart", "shopping", 500, 35_000, "POS"),
        new Merchant("Best Buy", "electronics", 2_000, 180_000, "POS"),
        new Merchant("Apple Store", "electronics", 999, 250_000, "WEB"),
        new Merchant("Home Depot", "home", 1_000, 90_000, "POS"),
        new Merchant("IKEA", "home", 1_500, 120_000, "POS"),
        new Merchant("Netflix", "subscriptions", 699, 2_299, "REC"),
        new Merchant("Spotify", "subscriptions", 1_099, 1_999, "REC"),
        new Merchant("Comcast Xfinity", "utilities", 4_500, 22_000, "ACH"),
        new Merchant("City Power & Light", "utilities", 3_000, 30_000, "ACH"),
        new Merchant("Verizon Wireless", "utilities", 3_500, 18_000, "ACH"),
        new Merchant("Delta Air Lines", "travel", 9_000, 120_000, "WEB"),
        new Merchant("Marriott Hotels", "travel", 12_000, 90_000, "POS"),
        new Merchant("Uber", "transport", 700, 6_500, "WEB"),
        new Merchant("CVS Pharmacy", "health", 400, 12_000, "POS"),
        new Merchant("Walgreens", "health", 400, 10_000, "POS"),
        new Merchant("State Farm Insurance", "insurance", 8_000, 40_000, "ACH"),
        new Merchant("ATM", "cash", 2_000, 40_000, "ATM"),
        new Merchant("Payroll - Acme Corp", "income", 120_000, 650_000, "DEP"),
        new Merchant("Payroll - Globex Inc", "income", 150_000, 800_000, "DEP"),
        new Merchant("Mobile Deposit", "income", 2_000, 300_000, "DEP"),
        new Merchant("Transfer from Savings", "transfer", 5_000, 200_000, "XIN"),
        new Merchant("Zelle Payment", "transfer", 1_000, 60_000, "ZEL"),
        new Merchant("Monthly Interest", "interest", 1, 3_500, "INT")
    };

    private BankData() {
    }

    // ---------------------------------------------------------------- public API

    /**
     * Drops and recreates the bank tables in the current schema of {@code c} and fills them
     * deterministically. The connection must be a PostgreSQL JDBC connection (or unwrap to one).
     * Runs in one transaction (committed at the end, auto-commit restored), then ANALYZEs the
     * tables.
     */
    public static void load(Connection c) throws SQLException {
        Generated g = generate();
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS transactions, cards, accounts, customers CASCADE");
            createTables(st);
            copyIn(copy, "customers (id, full_name, ssn, date_of_birth, email, phone, street_address,"
                + " city, state, postal_code, created_at)", g.customers);
            copyIn(copy, "accounts (id, customer_id, account_number, routing_number, account_type,"
                + " balance, opened_on)", g.accounts);
            copyIn(copy, "cards (id, account_id, pan, expiry, cardholder_name, status)", g.cards);
            copyIn(copy, "transactions (id, account_id, posted_at, amount, merchant, category,"
                + " description)", g.transactions);
            addConstraintsAndIndexes(st);
            addComments(st);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        try (Statement st = c.createStatement()) {
            st.execute("ANALYZE customers, accounts, cards, transactions");
        }
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }

    // ---------------------------------------------------------------- checksums (package-visible for tests)

    /** True if {@code digits} (all decimal digits) passes the Luhn (mod 10) check. */
    static boolean luhnValid(String digits) {
        if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
            return false;
        }
        int sum = 0;
        boolean dbl = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (dbl) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            dbl = !dbl;
        }
        return sum % 10 == 0;
    }

    /** Luhn check digit to append to {@code payload}. */
    static int luhnCheckDigit(String payload) {
        for (int d = 0; d <= 9; d++) {
            if (luhnValid(payload + d)) {
                return d;
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** True if {@code rtn} is nine digits with a valid ABA checksum (weights 3,7,1). */
    static boolean abaValid(String rtn) {
        if (rtn.length() != 9 || !rtn.chars().allMatch(Character::isDigit)) {
            return false;
        }
        int[] w = {3, 7, 1};
        int sum = 0;
        for (int i = 0; i < 9; i++) {
            sum += w[i % 3] * (rtn.charAt(i) - '0');
        }
        return sum % 10 == 0;
    }

    /** ABA check digit completing the eight-digit {@code prefix}. */
    static int abaCheckDigit(String prefix) {
        for (int d = 0; d <= 9; d++) {
            if (abaValid(prefix + d)) {
                return d;
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** The routing numbers used by the data set. */
    static List<String> routingNumbers() {
        List<String> out = new ArrayList<>(ROUTING_PREFIXES.length);
        for (String p : ROUTING_PREFIXES) {
            out.add(p + abaCheckDigit(p));
        }
        return out;
    }

    // ---------------------------------------------------------------- DDL

    private static void createTables(Statement st) throws SQLException {
        st.execute("""
            CREATE TABLE customers (
              id             integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              full_name      text        NOT NULL,
              ssn            char(11)    NOT NULL,
              date_of_birth  date        NOT NULL,
              email          text        NOT NULL,
              phone          text        NOT NULL,
              street_address text        NOT NULL,
              city           text        NOT NULL,
              state          char(2)     NOT NULL,
              postal_code    varchar(10) NOT NULL,
              created_at     timestamptz NOT NULL
            )""");
        st.execute("""
            CREATE TABLE accounts (
              id             integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              customer_id    integer       NOT NULL,
              account_number varchar(12)   NOT NULL,
              routing_number char(9)       NOT NULL,
              account_type   text          NOT NULL CHECK (account_type IN ('checking', 'savings')),
              balance        numeric(14,2) NOT NULL,
              opened_on      date          NOT NULL
            )""");
        st.execute("""
            CREATE TABLE cards (
              id              integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              account_id      integer  NOT NULL,
              pan             char(16) NOT NULL,
              expiry          char(5)  NOT NULL,
              cardholder_name text     NOT NULL,
              status          text     NOT NULL CHECK (status IN ('active', 'blocked', 'lost', 'expired'))
            )""");
        st.execute("""
            CREATE TABLE transactions (
              id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
              account_id  integer       NOT NULL,
              posted_at   timestamptz   NOT NULL,
              amount      numeric(12,2) NOT NULL,
              merchant    text          NOT NULL,
              category    text          NOT NULL,
              description text          NOT NULL
            )""");
    }

    private static void addConstraintsAndIndexes(Statement st) throws SQLException {
        String[] ddl = {
            "ALTER TABLE customers ADD CONSTRAINT customers_ssn_key UNIQUE (ssn)",
            "ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email)",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_account_number_key UNIQUE (account_number)",
            "ALTER TABLE accounts ADD CONSTRAINT accounts_customer_id_fkey"
                + " FOREIGN KEY (customer_id) REFERENCES customers (id)",
            "ALTER TABLE cards ADD CONSTRAINT cards_pan_key UNIQUE (pan)",
            "ALTER TABLE cards ADD CONSTRAINT cards_account_id_fkey"
                + " FOREIGN KEY (account_id) REFERENCES accounts (id)",
            "ALTER TABLE transactions ADD CONSTRAINT transactions_account_id_fkey"
                + " FOREIGN KEY (account_id) REFERENCES accounts (id)",
            "CREATE INDEX customers_last_name_idx ON customers ((split_part(full_name, ' ', -1)))",
            "CREATE INDEX customers_state_city_idx ON customers (state, city)",
            "CREATE INDEX accounts_customer_id_idx ON accounts (customer_id)",
            "CREATE INDEX cards_account_id_idx ON cards (account_id)",
            "CREATE INDEX transactions_account_posted_idx ON transactions (account_id, posted_at DESC)",
            "CREATE INDEX transactions_posted_at_idx ON transactions (posted_at)",
            "CREATE INDEX transactions_category_idx ON transactions (category)",
            // identity columns: continue after the explicitly loaded ids
            "SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))",
            "SELECT setval(pg_get_serial_sequence('accounts', 'id'), (SELECT max(id) FROM accounts))",
            "SELECT setval(pg_get_serial_sequence('cards', 'id'), (SELECT max(id) FROM cards))",
            "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT max(id) FROM transactions))"
        };
        for (String s : ddl) {
            st.execute(s);
        }
    }

    private static void addComments(Statement st) throws SQLException {
        String[] ddl = {
            "COMMENT ON TABLE customers IS 'Retail bank customers (synthetic demo data)'",
            "COMMENT ON TABLE accounts IS 'Deposit accounts held by customers (synthetic demo data)'",
            "COMMENT ON TABLE cards IS 'Debit cards issued on accounts (synthetic demo data)'",
            "COMMENT ON TABLE transactions IS 'Posted account transactions; negative amount = debit'",
            sensitive("customers", "ssn", "PII: US Social Security Number"),
            sensitive("customers", "date_of_birth", "PII: date of birth"),
            sensitive("customers", "email", "PII: e-mail address"),
            sensitive("customers", "phone", "PII: telephone number"),
            sensitive("customers", "street_address", "PII: home street address"),
            sensitive("accounts", "account_number", "financial: bank account number"),
            sensitive("accounts", "routing_number", "financial: ABA routing transit number"),
            sensitive("cards", "pan", "PCI: primary account number (card number)")
        };
        for (String s : ddl) {
            st.execute(s);
        }
    }

    private static String sensitive(String table, String column, String what) {
        return "COMMENT ON COLUMN " + table + "." + column + " IS '" + SENSITIVE_TAG + " - " + what + "'";
    }

    private static void copyIn(CopyManager copy, String target, StringBuilder csv) throws SQLException {
        try {
            copy.copyIn("COPY " + target + " FROM STDIN WITH (FORMAT csv)", new StringReader(csv.toString()));
        } catch (IOException e) {
            throw new SQLException("COPY into " + target + " failed", e);
        }
    }

    // ---------------------------------------------------------------- generation

    /** CSV bodies of the four tables (package-visible so tests can inspect sizes cheaply). */
    static final class Generated {
        final StringBuilder customers = new StringBuilder(256 * CUSTOMERS);
        final StringBuilder accounts = new StringBuilder(80 * 3_000);
        final StringBuilder cards = new StringBuilder(80 * 2_500);
        final StringBuilder transactions = new StringBuilder(120 * TRANSACTIONS);
        int customerCount;
        int accountCount;
        int cardCount;
        int transactionCount;
    }

    private record Account(int id, boolean checking, LocalDate openedOn) {
    }

    private record Txn(LocalDateTime postedAt, int accountId, long cents, Merchant m, String description) {
    }

    static Generated generate() {
        Random r = new Random(SEED);
        Generated g = new Generated();
        List<String> routing = routingNumbers();

        Set<String> ssns = new HashSet<>();
        Set<String> emails = new HashSet<>();
        Set<String> accountNumbers = new HashSet<>();
        Set<String> pans = new HashSet<>();
        List<Account> accounts = new ArrayList<>();

        LocalDateTime firstCustomer = LocalDateTime.of(2012, 1, 1, 0, 0);
        long customerSpanSeconds = java.time.Duration.between(firstCustomer, AS_OF.minusDays(60).atStartOfDay())
            .getSeconds();

        int accountId = 0;
        int cardId = 0;
        for (int id = 1; id <= CUSTOMERS; id++) {
            String first = pick(r, FIRST_NAMES);
            String last = pick(r, LAST_NAMES);
            String fullName = r.nextInt(4) == 0 ? first + " " + pick(r, MIDDLE_INITIALS) + ". " + last
                : first + " " + last;

            String ssn;
            do {
                ssn = ssn(r);
            } while (!ssns.add(ssn));

            LocalDate dob = LocalDate.of(1940, 1, 1).plusDays(r.nextInt(365 * 66));

            String email;
            do {
                String local = switch (r.nextInt(4)) {
                    case 0 -> first + "." + last;
                    case 1 -> first.charAt(0) + last;
                    case 2 -> first + last.charAt(0) + (dob.getYear() % 100);
                    default -> first + "." + last + (10 + r.nextInt(990));
                };
                email = local.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.]", "") + "@" + pick(r, EMAIL_DOMAINS);
            } while (!emails.add(email));

            String[] city = CITIES[r.nextInt(CITIES.length)];
            String phone = city[3] + "-" + (200 + r.nextInt(800)) + "-"
                + String.format(Locale.ROOT, "%04d", r.nextInt(10_000));
            String street = (1 + r.nextInt(9_899)) + " " + pick(r, STREET_NAMES) + " " + pick(r, STREET_SUFFIXES)
                + (r.nextInt(6) == 0 ? " Apt " + (1 + r.nextInt(40)) : "");
            String zip = city[2] + String.format(Locale.ROOT, "%02d", 1 + r.nextInt(98));
            LocalDateTime created = firstCustomer.plusSeconds((long) (r.nextDouble() * customerSpanSeconds));

            row(g.customers, Integer.toString(id), fullName, ssn, dob.toString(), email, phone, street,
                city[0], city[1], zip, ts(created));
            g.customerCount++;

            // accounts: everybody has one, about half have a second one
            int nAccounts = 1 + (r.nextInt(100) < 50 ? 1 : 0);
            for (int a = 0; a < nAccounts; a++) {
                accountId++;
                boolean checking = a == 0 ? r.nextInt(100) < 88 : r.nextInt(100) < 35;
                String number;
                do {
                    int len = 10 + r.nextInt(3);
                    StringBuilder sb = new StringBuilder(len).append(1 + r.nextInt(9));
                    while (sb.length() < len) {
                        sb.append(r.nextInt(10));
                    }
                    number = sb.toString();
                } while (!accountNumbers.add(number));
                long days = java.time.temporal.ChronoUnit.DAYS.between(created.toLocalDate(), AS_OF.minusDays(30));
                LocalDate opened = created.toLocalDate().plusDays(a == 0 ? r.nextInt(10) : r.nextInt((int) days + 1));
                // log-normal balances: median about $2,500 (checking) and $8,000 (savings);
                // StrictMath keeps the values identical on every JVM
                long balanceCents = checking
                    ? (long) StrictMath.exp(12.43 + r.nextGaussian() * 1.1)
                    : (long) StrictMath.exp(13.59 + r.nextGaussian() * 1.3);
                if (checking && r.nextInt(50) == 0) {
                    balanceCents = -r.nextInt(40_000); // a few overdrawn accounts
                }
                row(g.accounts, Integer.toString(accountId), Integer.toString(id), number,
                    routing.get(r.nextInt(routing.size())), checking ? "checking" : "savings",
                    money(balanceCents), opened.toString());
                g.accountCount++;
                accounts.add(new Account(accountId, checking, opened));

                // cards: most checking accounts, some savings accounts; a few get a replacement
                int nCards = checking ? (r.nextInt(100) < 90 ? 1 : 0) : (r.nextInt(100) < 40 ? 1 : 0);
                if (nCards == 1 && r.nextInt(100) < 12) {
                    nCards = 2;
                }
                for (int k = 0; k < nCards; k++) {
                    cardId++;
                    String pan;
                    do {
                        StringBuilder sb = new StringBuilder(16).append(pick(r, CARD_BINS));
                        while (sb.length() < 15) {
                            sb.append(r.nextInt(10));
                        }
                        pan = sb.append(luhnCheckDigit(sb.toString())).toString();
                    } while (!pans.add(pan));
                    YearMonth exp = YearMonth.of(2023, 1).plusMonths(r.nextInt(96));
                    String status;
                    if (exp.isBefore(YearMonth.from(AS_OF))) {
                        status = "expired";
                    } else {
                        int s = r.nextInt(100);
                        status = s < 92 ? "active" : s < 97 ? "blocked" : "lost";
                    }
                    String expiry = String.format(Locale.ROOT, "%02d/%02d", exp.getMonthValue(), exp.getYear() % 100);
                    row(g.cards, Integer.toString(cardId), Integer.toString(accountId), pan, expiry,
                        fullName.toUpperCase(Locale.ROOT).replace(".", ""), status);
                    g.cardCount++;
                }
            }
        }

        // transactions over the last 18 months, checking accounts three times as busy as savings
        List<Account> weighted = new ArrayList<>();
        for (Account a : accounts) {
            weighted.add(a);
            if (a.checking()) {
                weighted.add(a);
                weighted.add(a);
            }
        }
        LocalDateTime txStart = AS_OF.minusMonths(18).atStartOfDay();
        long txSpan = java.time.Duration.between(txStart, AS_OF.atTime(23, 59, 59)).getSeconds();
        List<Txn> txns = new ArrayList<>(TRANSACTIONS);
        for (int i = 0; i < TRANSACTIONS; i++) {
            Account a = weighted.get(r.nextInt(weighted.size()));
            Merchant m = a.checking()
                ? MERCHANTS[r.nextInt(MERCHANTS.length - 1)] // no interest on checking
                : pickSavingsMerchant(r);
            LocalDateTime at = txStart.plusSeconds((long) (r.nextDouble() * txSpan));
            if (at.toLocalDate().isBefore(a.openedOn())) {
                at = a.openedOn().atTime(9, 0).plusSeconds(r.nextInt(8 * 3600));
            }
            long cents = m.minCents() + (long) (r.nextDouble() * (m.maxCents() - m.minCents()));
            boolean credit = switch (m.kind()) {
                case "DEP", "XIN", "INT" -> true;
                case "ZEL" -> r.nextBoolean();
                default -> false;
            };
            if (m.kind().equals("ATM")) {
                cents = (cents / 2_000) * 2_000; // ATMs dispense twenties
            }
            txns.add(new Txn(at, a.id(), credit ? cents : -cents, m, description(r, m, credit)));
        }
        txns.sort(Comparator.comparing(Txn::postedAt).thenComparingInt(Txn::accountId));
        long txId = 0;
        for (Txn t : txns) {
            txId++;
            row(g.transactions, Long.toString(txId), Integer.toString(t.accountId()), ts(t.postedAt()),
                money(t.cents()), t.m().name(), t.m().category(), t.description());
            g.transactionCount++;
        }
        return g;
    }

    private static Merchant pickSavingsMerchant(Random r) {
        // savings accounts see interest, deposits, transfers and the occasional ATM withdrawal
        String[] names = {"Monthly Interest", "Monthly Interest", "Mobile Deposit", "Zelle Payment", "ATM"};
        String name = names[r.nextInt(names.length)];
        for (Merchant m : MERCHANTS) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        throw new IllegalStateException(name);
    }

    private static String description(Random r, Merchant m, boolean credit) {
        String city = CITIES[r.nextInt(CITIES.length)][0].toUpperCase(Locale.ROOT);
        String upper = m.name().toUpperCase(Locale.ROOT);
        return switch (m.kind()) {
            case "POS" -> "POS PURCHASE " + upper + " #" + (100 + r.nextInt(9_900)) + " " + city;
            case "WEB" -> "ONLINE PURCHASE " + upper;
            case "REC" -> "RECURRING PAYMENT " + upper;
            case "ACH" -> "ACH DEBIT " + upper + " AUTOPAY";
            case "ATM" -> "ATM WITHDRAWAL " + city;
            case "DEP" -> m.category().equals("income") && m.name().startsWith("Payroll")
                ? "ACH CREDIT " + upper.substring("PAYROLL - ".length()) + " PAYROLL" : "MOBILE CHECK DEPOSIT";
            case "XIN" -> "ONLINE TRANSFER FROM SAVINGS";
            case "ZEL" -> (credit ? "ZELLE FROM " : "ZELLE TO ") + pick(r, FIRST_NAMES).toUpperCase(Locale.ROOT)
                + " " + pick(r, LAST_NAMES).toUpperCase(Locale.ROOT);
            case "INT" -> "INTEREST PAYMENT";
            default -> upper;
        };
    }

    /** SSN with an area number that has been issued (001-899, not 666), group 01-99, serial 0001-9999. */
    private static String ssn(Random r) {
        int area;
        do {
            area = 1 + r.nextInt(899);
        } while (area == 666);
        int group = 1 + r.nextInt(99);
        int serial = 1 + r.nextInt(9_999);
        return String.format(Locale.ROOT, "%03d-%02d-%04d", area, group, serial);
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    private static String ts(LocalDateTime t) {
        return TS.format(t) + "+00";
    }

    private static String money(long cents) {
        return BigDecimal.valueOf(cents, 2).toPlainString();
    }

    private static void row(StringBuilder out, String... fields) {
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                out.append(',');
            }
            String f = fields[i];
            if (f.indexOf(',') >= 0 || f.indexOf('"') >= 0 || f.indexOf('\n') >= 0 || f.indexOf('\r') >= 0) {
                out.append('"').append(f.replace("\"", "\"\"")).append('"');
            } else {
                out.append(f);
            }
        }
        out.append('\n');
    }
}
