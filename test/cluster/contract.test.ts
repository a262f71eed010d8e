/**
 * The cluster contract: one suite per interface (contract-*.ts), each run against the memory
 * broker, a private redis-server and a private 3-master Redis Cluster, started once for this
 * file (see harness.ts). The outage suite runs last on each backend: it restarts the servers.
 */
import { busContract } from "./contract-bus.ts";
import { changeContract } from "./contract-change.ts";
import { claimsContract } from "./contract-claims.ts";
import { logContract } from "./contract-log.ts";
import { nodesContract } from "./contract-nodes.ts";
import { outageContract } from "./contract-outage.ts";
import { worldContract } from "./contract-world.ts";
import { contractSuites } from "./harness.ts";

contractSuites({
  RoomBus: busContract,
  RoomLog: logContract,
  RoomChange: changeContract,
  WorldStore: worldContract,
  ClientClaims: claimsContract,
  "MemberStore and NodeRegistry": nodesContract,
  outage: outageContract,
});
