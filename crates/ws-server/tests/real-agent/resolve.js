// Test only, loaded with NODE_OPTIONS=--require: resolves the host names listed in EZM_TEST_HOSTS to 127.0.0.1,
// so the real agent reaches nginx on loopback by a domain name (the Host header nginx routes on), as it would in
// production. Child processes inherit NODE_OPTIONS, so the agent's upload_file child resolves them too.
'use strict';
const dns = require('dns');
const hosts = new Set((process.env.EZM_TEST_HOSTS || '').split(',').filter(Boolean));
const lookup = dns.lookup;
dns.lookup = function testLookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  if (!hosts.has(hostname)) return lookup.call(dns, hostname, options, callback);
  if (typeof options === 'number') options = { family: options };
  if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
  return process.nextTick(callback, null, '127.0.0.1', 4);
};
