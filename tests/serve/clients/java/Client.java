// The AWS SDK for Java v2 against `credchain serve`:
//     java -cp CLASSPATH Client.java SECONDS [INTERVAL]
// Configured only by the environment (AWS_CONTAINER_CREDENTIALS_FULL_URI and
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE). One DefaultCredentialsProvider for the whole
// run, as an application keeps one, so the SDK's own cache (ContainerCredentialsProvider's
// CachedSupplier: stale 1 min, prefetch 15 min before expiry) is what runs. Each iteration
// prints one JSON line: {"t", "access_key_id", "expiration", "provider"} or {"t", "error"}.

import java.time.Instant;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

public class Client {
    public static void main(String[] args) throws Exception {
        double seconds = Double.parseDouble(args[0]);
        double interval = args.length > 1 ? Double.parseDouble(args[1]) : 0.5;
        long end = System.currentTimeMillis() + (long) (seconds * 1000);
        DefaultCredentialsProvider provider = DefaultCredentialsProvider.builder().build();
        while (true) {
            String line;
            try {
                AwsCredentials credentials = provider.resolveCredentials();
                String expiration = credentials.expirationTime()
                        .map(e -> String.format("%.3f", e.toEpochMilli() / 1000.0)).orElse("null");
                line = String.format("{\"t\": %.3f, \"access_key_id\": \"%s\", \"expiration\": %s, "
                        + "\"provider\": \"%s\"}", now(), escape(credentials.accessKeyId()), expiration,
                        escape(credentials.providerName().orElse("?")));
            } catch (RuntimeException e) {
                line = String.format("{\"t\": %.3f, \"error\": \"%s\"}", now(), escape(e.toString()));
            }
            System.out.println(line);
            System.out.flush();
            if (System.currentTimeMillis() + (long) (interval * 1000) >= end) {
                provider.close();
                return;
            }
            Thread.sleep((long) (interval * 1000));
        }
    }

    private static double now() {
        Instant n = Instant.now();
        return n.getEpochSecond() + n.getNano() / 1e9;
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
