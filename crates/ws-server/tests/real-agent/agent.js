// Starts the real xtransit agent in library mode with a config from the environment (end-to-end tests).
'use strict';
const xtransit = require('xtransit');
const config = {
  server: process.env.EZM_SERVER,
  appId: Number(process.env.EZM_APP_ID),
  appSecret: process.env.EZM_APP_SECRET,
  logDir: process.env.EZM_LOG_DIR,
  heartbeatInterval: Number(process.env.EZM_HEARTBEAT || 2),
  reconnectBaseTime: Number(process.env.EZM_RECONNECT || 1),
  errors: process.env.ERROR_LOG ? [process.env.ERROR_LOG] : [],
  packages: process.env.EZM_PACKAGE ? [process.env.EZM_PACKAGE] : [],
  libMode: true,
  logLevel: Number(process.env.EZM_AGENT_LOG_LEVEL || 2),
};
if (process.env.EZM_AGENT_ID) config.customAgent = () => process.env.EZM_AGENT_ID;
xtransit.start(config);
