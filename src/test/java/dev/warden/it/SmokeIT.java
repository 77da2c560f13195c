package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class SmokeIT {
    @Test
    void queryPassesThroughTheGatewayToTheTarget() throws Exception {
        try (TestGateway gw = TestGateway.builder().start();
             Connection c = gw.connect();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, current_database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(SharedPostgres.APP_ROLE);
            assertThat(rs.getString(2)).isEqualTo(SharedPostgres.APP_DB);
        }
    }
}
