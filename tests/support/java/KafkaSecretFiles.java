// Reads Secret files the way a Connect worker does, with kafka-clients' own code, for the tests.
//   keystore FILE: builds an Admin client with ssl.keystore.type=PEM on FILE; Kafka loads the keystore
//                  while the client is made, so a key its PEM loader refuses fails here. Prints "loaded".
//   dir DIR KEY:   resolves ${dir:DIR:KEY} with DirectoryConfigProvider (the workers' placeholders)
//                  and prints the value's UTF-8 bytes in hex, so the test compares exact bytes.
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.config.ConfigData;
import org.apache.kafka.common.config.provider.DirectoryConfigProvider;

public class KafkaSecretFiles {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("keystore")) {
            Properties props = new Properties();
            props.put("bootstrap.servers", "127.0.0.1:9");
            props.put("security.protocol", "SSL");
            props.put("ssl.keystore.type", "PEM");
            props.put("ssl.keystore.location", args[1]);
            try (Admin admin = Admin.create(props)) {
                admin.close(Duration.ZERO);
            } catch (Exception e) {
                for (Throwable t = e; t != null; t = t.getCause()) {
                    System.out.println(t.getClass().getName() + ": " + t.getMessage());
                }
                System.exit(1);
            }
            System.out.println("loaded");
        } else {
            try (DirectoryConfigProvider provider = new DirectoryConfigProvider()) {
                provider.configure(Map.of());
                ConfigData data = provider.get(args[1], Set.of(args[2]));
                String value = data.data().get(args[2]);
                System.out.println(HexFormat.of().formatHex(value.getBytes(StandardCharsets.UTF_8)));
            }
        }
    }
}
