package dev.warden.cli;

import dev.warden.identity.scram.ScramVerifier;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "scram-verifier", description = "Read a password from standard input and print the SCRAM-SHA-256 "
        + "verifier to put in users[].scramVerifier (the password itself never goes into the config).")
final class ScramVerifierCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        String password;
        if (System.console() != null) {
            password = new String(System.console().readPassword("password: "));
        } else {
            password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        if (password == null || password.isEmpty()) {
            System.err.println("warden: no password given on standard input");
            return 2;
        }
        System.out.println(ScramVerifier.fromPassword(password).format());
        return 0;
    }
}
