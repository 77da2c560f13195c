package dev.warden.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LineageTest {
    static final ProtectedCatalog.Snapshot CAT = new ProtectedCatalog.Snapshot(1, Map.of(), Set.of(),
            Set.of("customers"), Map.of("ssn", DataClass.SSN, "email", DataClass.EMAIL),
            Map.of("customers", Set.of("id", "ssn", "email", "city"), "orders", Set.of("id", "total")),
            Set.of("customers"), Set.of());

    static Lineage.Output out(String sql, int i, int n) {
        return Lineage.of(sql, CAT).originless(i, n);
    }

    @Test
    void statementsNotNamingAProtectedRelationNeedNothing() {
        assertThat(Lineage.of("SELECT upper(x) FROM orders", CAT).touchesProtected()).isFalse();
    }

    @Test
    void eachOutputExpressionIsJudgedByTheNamesInIt() {
        String sql = "SELECT id + 1, upper(city), upper(ssn) AS x, count(*), coalesce(email, '') e FROM customers";
        assertThat(out(sql, 0, 5)).isNull();
        assertThat(out(sql, 1, 5)).isNull();
        assertThat(out(sql, 2, 5)).isEqualTo(new Lineage.Output(DataClass.SSN, false));
        assertThat(out(sql, 3, 5)).isNull();
        assertThat(out(sql, 4, 5)).isEqualTo(new Lineage.Output(DataClass.EMAIL, false));
    }

    @Test
    void wholeRowsUnknownNamesAndMixedClassesAreFreetext() {
        assertThat(out("SELECT c FROM customers c", 0, 1).cls()).isEqualTo(DataClass.FREETEXT);
        assertThat(out("SELECT row_to_json(c.*) FROM customers c", 0, 1).cls()).isEqualTo(DataClass.FREETEXT);
        assertThat(out("SELECT ssn || email FROM customers", 0, 1).cls()).isEqualTo(DataClass.FREETEXT);
    }

    @Test
    void commentsQuotingAndCaseDoNotHideAName() {
        assertThat(out("SELECT upper(/*x*/\"ssn\") FROM \"customers\"", 0, 1)).isNotNull();
        assertThat(out("SELECT UPPER(SSN) FROM CUSTOMERS", 0, 1)).isNotNull();
    }

    @Test
    void subqueriesCtesAndStarsMaskEveryComputedColumn() {
        assertThat(Lineage.of("SELECT (SELECT 1) FROM customers", CAT).outputs()).isNull();
        assertThat(Lineage.of("WITH x AS (SELECT id FROM customers) SELECT id FROM x", CAT).outputs()).isNull();
        assertThat(Lineage.of("SELECT *, 1 FROM customers", CAT).outputs()).isNull();
        assertThat(out("SELECT 1 FROM customers WHERE id IN (SELECT 1)", 0, 1)).isNotNull();
    }

    @Test
    void setOperationsCombineTheirBranchesPerPosition() {
        String sql = "SELECT city, id FROM customers UNION ALL SELECT ssn, id FROM customers";
        assertThat(out(sql, 0, 2)).isEqualTo(new Lineage.Output(DataClass.SSN, false));
        assertThat(out(sql, 1, 2)).isNull();
    }
}
