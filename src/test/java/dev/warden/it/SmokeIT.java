package dev.warden.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

    @Test
    void healthEndpointAnswersOnTheHttpPort() throws Exception {
        try (TestGateway gw = TestGateway.builder().start(); Connection c = gw.connect()) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.httpPort() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"sessions\":1");
        }
    }
}
