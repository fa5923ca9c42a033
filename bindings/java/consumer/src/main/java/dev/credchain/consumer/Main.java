package dev.credchain.consumer;

import dev.credchain.CredChain;
import dev.credchain.Credentials;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A user's application in a few lines: the default profile's credentials, printed as
 * {@code key=value} lines (the secret only as its SHA-256), with where the binding and its native
 * library came from.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws NoSuchAlgorithmException {
    Credentials c = CredChain.getCredentials();
    System.out.println("access_key_id=" + c.accessKeyId());
    System.out.println("secret_sha256=" + sha256(c.secretAccessKey()));
    System.out.println("session_token=" + c.sessionToken().isPresent());
    System.out.println("source=" + c.source());
    System.out.println("version=" + CredChain.version());
    System.out.println("library=" + CredChain.libraryLocation());
    System.out.println("jar=" + CredChain.class.getProtectionDomain().getCodeSource().getLocation()
        .getPath());
  }

  static String sha256(String s) throws NoSuchAlgorithmException {
    StringBuilder hex = new StringBuilder();
    for (byte b : MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))) {
      hex.append(String.format("%02x", b));
    }
    return hex.toString();
  }
}
