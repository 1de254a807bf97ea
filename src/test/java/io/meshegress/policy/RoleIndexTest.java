package io.meshegress.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The index must give exactly what trying each role in the config's order gives (the order the docs promise:
 * "the first role whose clients hold a client, or whose workloads select it"). The oracle here is that plain
 * loop over {@link Role#holding} and {@link Role#selecting}, on overlapping networks of both families, IPv4
 * carried in IPv6, and roles that select by workload before and after the address's role.
 */
class RoleIndexTest {
    private static final String[] NAMESPACES = {"pay", "web", "ops"};

    @Test
    void agreesWithTheFirstMatchInConfigOrder() throws Exception {
        Random random = new Random(20261206);
        for (int round = 0; round < 300; round++) {
            List<Role> roles = randomRoles(random, 1 + random.nextInt(40));
            RoleIndex index = new RoleIndex(roles);
            for (int q = 0; q < 200; q++) {
                InetAddress client = random.nextInt(20) == 0 ? null : randomAddress(random);
                Workload workload = random.nextBoolean() ? null : new Workload(
                        NAMESPACES[random.nextInt(NAMESPACES.length)], "p", "sa", Map.of(), Map.of());
                assertThat(index.first(client, workload))
                        .as("round %d, client %s, workload %s, roles %s", round, client, workload, roles)
                        .isEqualTo(linearFirst(roles, client, workload));
                if (client != null) {
                    assertThat(index.firstHolding(client)).isEqualTo(linearFirst(roles, client, null));
                }
            }
        }
    }

    @Test
    void theEarlierRoleWinsWhereNetworksNestInEitherOrder() throws Exception {
        List<Role> roles = List.of(
                role(0, List.of("10.1.2.0/24"), null),
                role(1, List.of("10.0.0.0/8"), null),
                role(2, List.of("10.1.2.3/32", "::ffff:0:0/96"), null));
        RoleIndex index = new RoleIndex(roles);
        assertThat(index.firstHolding(InetAddress.getByName("10.1.2.3"))).isZero();
        assertThat(index.firstHolding(InetAddress.getByName("10.9.9.9"))).isEqualTo(1);
        // ::ffff:10.9.9.9 is the IPv4 address it carries, so the IPv4 rule holds it (Cidr.contains's rule).
        assertThat(index.firstHolding(InetAddress.getByName("::ffff:10.9.9.9"))).isEqualTo(1);
        assertThat(index.firstHolding(InetAddress.getByName("11.0.0.1"))).isEqualTo(RoleIndex.NONE);
        assertThat(index.firstHolding(InetAddress.getByName("fd00::1"))).isEqualTo(RoleIndex.NONE);
    }

    private static int linearFirst(List<Role> roles, InetAddress client, Workload workload) {
        for (int i = 0; i < roles.size(); i++) {
            Role r = roles.get(i);
            if ((client != null && r.holding(client).isPresent()) || r.selecting(workload) >= 0) {
                return i;
            }
        }
        return RoleIndex.NONE;
    }

    private static List<Role> randomRoles(Random random, int count) {
        List<Role> roles = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<String> cidrs = new ArrayList<>();
            int n = random.nextInt(4);
            for (int c = 0; c < n; c++) {
                cidrs.add(randomCidr(random));
            }
            String namespace = random.nextInt(4) == 0 ? NAMESPACES[random.nextInt(NAMESPACES.length)] : null;
            roles.add(role(i, cidrs, namespace));
        }
        return roles;
    }

    private static Role role(int index, List<String> cidrs, String namespace) {
        List<WorkloadSelector> workloads = namespace == null ? List.of()
                : List.of(new WorkloadSelector(namespace, null, null, null));
        return Role.named(index, "r" + index, cidrs.stream().map(Cidr::parse).toList(), workloads, List.of(),
                List.of(), PolicyMode.ENFORCE, null);
    }

    /** Networks in a small space (10.0.0.0/14, fd00::/118 and whole families) so that they nest and overlap. */
    private static String randomCidr(Random random) {
        switch (random.nextInt(6)) {
            case 0:
                return random.nextBoolean() ? "0.0.0.0/0" : "::/0";
            case 1, 2, 3: {
                int prefix = 14 + random.nextInt(19);
                long address = (10L << 24) | (random.nextInt(1 << 18));
                long masked = prefix == 0 ? 0 : address & (0xffffffffL << (32 - prefix)) & 0xffffffffL;
                return ((masked >> 24) & 255) + "." + ((masked >> 16) & 255) + "." + ((masked >> 8) & 255) + "."
                        + (masked & 255) + "/" + prefix;
            }
            default: {
                int prefix = 118 + random.nextInt(11);
                int low = random.nextInt(1 << 10) & (prefix >= 118 ? ~((1 << (128 - prefix)) - 1) : 0);
                return "fd00::" + Integer.toHexString(low) + "/" + prefix;
            }
        }
    }

    private static InetAddress randomAddress(Random random) throws Exception {
        switch (random.nextInt(4)) {
            case 0, 1: {
                int a = random.nextInt(1 << 18);
                return InetAddress.getByName("10." + (a >> 16) + "." + ((a >> 8) & 255) + "." + (a & 255));
            }
            case 2:
                return InetAddress.getByName("fd00::" + Integer.toHexString(random.nextInt(1 << 10)));
            default: {
                int a = random.nextInt(1 << 18);
                // java.net turns ::ffff:a.b.c.d into an Inet4Address; written as bytes it stays IPv6.
                byte[] b = new byte[16];
                b[10] = (byte) 0xff;
                b[11] = (byte) 0xff;
                b[12] = 10;
                b[13] = (byte) (a >> 16);
                b[14] = (byte) (a >> 8);
                b[15] = (byte) a;
                return java.net.Inet6Address.getByAddress(null, b, -1);
            }
        }
    }
}
