// PostGraphile 5 with the amber preset over the claims service's PostgreSQL
// database (DATABASE_URL, the one apibench seeded): the peer apibench -peer
// compares the service with. Nothing is customised beyond turning off what
// a production deployment turns off, so the figures are PostGraphile's own.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { jsonPgSmartTags } from "postgraphile/utils";

// The subscriptions table would take the name of GraphQL's Subscription root
// type; it is renamed so its type and connection exist (nothing here reads it).
const RenameSubscriptions = jsonPgSmartTags({
  version: 1,
  config: { class: { subscriptions: { tags: { name: "customer_subscriptions" } } } },
});

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  plugins: [RenameSubscriptions],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      // The service's PostgreSQL pool holds 20 connections (CPOR_DB_MAX_CONNS).
      poolConfig: { max: 20 },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT ?? 5678),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
