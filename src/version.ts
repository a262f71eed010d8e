/** The server's version, reported in SERVER_HELLO, `/health` and metrics. Keep in step with package.json. */
export const SERVER_VERSION = "0.1.0";
