package dev.credchain.pgtest;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.credchain.CredChain;
import dev.credchain.jdbc.CredChainJdbc;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Java drivers logging in with credchain's tokens, again and again (tests/postgres/test_drivers.py).
 *
 * <pre>java dev.credchain.pgtest.Login MODE HOST PORT USER REGION SECONDS INTERVAL_MS</pre>
 *
 * <p>MODE {@code pgjdbc}: {@code DriverManager.getConnection} with {@code CredChain.rdsAuthToken} as the
 * password. MODE {@code wrapper-hikari}: a HikariCP pool over the AWS Advanced JDBC Wrapper
 * ({@code jdbc:aws-wrapper:postgresql://}) whose {@code iam} plugin signs the tokens with the
 * credentials credchain's {@code AwsCredentialsManager} handler ({@code CredChainJdbc.install()})
 * hands it; after each borrow the pool's connections are soft-evicted, so the next borrow opens a
 * new one. Every INTERVAL_MS a connection is opened, {@code SELECT current_user} must be USER; after
 * SECONDS seconds one JSON line is printed, as the C programs do. Its {@code keys} are the access key
 * ids the tokens were signed with (for the wrapper, which signs itself: the keys of credchain's current
 * credentials just before and just after each borrow, which test_drivers.py compares with the server's).
 */
public final class Login {
  private Login() {}

  private static final Set<String> KEYS = new LinkedHashSet<>();
  private static final List<String> ERRORS = new ArrayList<>();
  private static long logins;
  private static long failures;
  private static int tokenBytes;

  interface Attempt {
    String currentUser() throws SQLException;
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String host = args[1];
    int port = Integer.parseInt(args[2]);
    String user = args[3];
    String region = args[4];
    double seconds = Double.parseDouble(args[5]);
    long interval = Long.parseLong(args[6]);
    String path;
    Attempt attempt;
    HikariDataSource pool = null;
    if (mode.equals("pgjdbc")) {
      path = "pgjdbc";
      String url = "jdbc:postgresql://" + host + ":" + port + "/postgres";
      attempt = () -> {
        String token = CredChain.rdsAuthToken(host, port, user, region, null, 0);
        noteKey(token);
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", token);
        props.setProperty("sslmode", "disable");
        props.setProperty("connectTimeout", "20");
        try (Connection c = DriverManager.getConnection(url, props)) {
          return currentUser(c);
        }
      };
    } else if (mode.equals("wrapper-hikari")) {
      path = "jdbc-wrapper+hikari";
      CredChainJdbc.install(); // before the first connection
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl("jdbc:aws-wrapper:postgresql://" + host + ":" + port + "/postgres");
      config.setUsername(user);
      config.addDataSourceProperty("wrapperPlugins", "iam");
      config.addDataSourceProperty("wrapperDialect", "pg");
      config.addDataSourceProperty("iamRegion", region); // no region lookup
      // The plugin caches a token this long (default 870 s). credchain hands out a key until a sixth of
      // its life is left (4.3 s of 26 s) and the verifier refuses a token whose keys have expired: 3 s
      // keeps every token inside its keys' life.
      config.addDataSourceProperty("iamExpiration", "3");
      config.addDataSourceProperty("sslmode", "disable");
      config.addDataSourceProperty("connectTimeout", "20");
      config.setMaximumPoolSize(2);
      config.setMinimumIdle(0);
      config.setConnectionTimeout(30_000);
      config.setPoolName("credchain-iam");
      HikariDataSource ds = new HikariDataSource(config);
      pool = ds;
      attempt = () -> {
        noteKey(null);
        try (Connection c = ds.getConnection()) {
          return currentUser(c);
        } finally {
          ds.getHikariPoolMXBean().softEvictConnections(); // the next borrow logs in anew
          noteKey(null); // a rotation between the first note and the plugin's signing shows here
        }
      };
    } else {
      throw new IllegalArgumentException("unknown mode " + mode);
    }
    long end = System.nanoTime() + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      try {
        String current = attempt.currentUser();
        if (user.equals(current)) {
          logins++;
        } else {
          fail("current_user is " + current);
        }
      } catch (Exception e) {
        fail(e.toString());
      }
      Thread.sleep(interval);
    }
    if (pool != null) {
      pool.close();
    }
    System.out.println(json(path));
    System.out.flush();
    System.exit(failures == 0 ? 0 : 1);
  }

  private static String currentUser(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT current_user")) {
      r.next();
      return r.getString(1);
    }
  }

  /** The access key id a token was signed with; for the wrapper (null), credchain's current key. */
  private static void noteKey(String token) {
    if (token == null) {
      KEYS.add(CredChain.getCredentials().accessKeyId());
      return;
    }
    tokenBytes = Math.max(tokenBytes, token.length());
    String marker = "X-Amz-Credential=";
    int at = token.indexOf(marker) + marker.length();
    int stop = token.indexOf("%2F", at);
    KEYS.add(token.substring(at, stop));
  }

  private static void fail(String message) {
    failures++;
    if (ERRORS.size() < 5) {
      ERRORS.add(message.length() > 500 ? message.substring(0, 500) : message);
    }
  }

  private static String json(String path) {
    StringBuilder b = new StringBuilder();
    b.append("{\"path\": ").append(quote(path)).append(", \"logins\": ").append(logins);
    b.append(", \"failures\": ").append(failures).append(", \"token_bytes\": ").append(tokenBytes);
    b.append(", \"keys\": [");
    String sep = "";
    for (String k : KEYS) {
      b.append(sep).append(quote(k));
      sep = ", ";
    }
    b.append("], \"errors\": [");
    sep = "";
    for (String e : ERRORS) {
      b.append(sep).append(quote(e));
      sep = ", ";
    }
    return b.append("]}").toString();
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      if (ch == '"' || ch == '\\') {
        b.append('\\').append(ch);
      } else if (ch < 0x20) {
        b.append(String.format("\\u%04x", (int) ch));
      } else {
        b.append(ch);
      }
    }
    return b.append('"').toString();
  }
}
