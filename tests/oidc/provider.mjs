// A real OpenID Connect provider (the npm package oidc-provider) for the hub's tests, started by
// tests/oidc/conftest.py. One client, users from OIDC_USERS (JSON: login → claims), and a minimal login
// form at /interaction/<uid> that the tests fill in with plain HTTP requests: fields `login` and `amr`
// (comma-separated, e.g. "pwd,otp"; the IdP's own second factor) and `acr`. Consent is granted at once.
//
// Environment: OIDC_PROVIDER_MODULE (path to oidc-provider's lib/index.js), PORT, CLIENT_ID,
// CLIENT_SECRET, REDIRECT_URI, OIDC_USERS. Prints "ready <issuer>" once it listens.
import http from 'node:http';
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(process.env.OIDC_PROVIDER_MODULE).href);
const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const users = JSON.parse(process.env.OIDC_USERS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { methods: ['S256'], required: () => true },
  acrValues: ['urn:example:loa:low', 'urn:example:loa:substantial'],
  claims: {
    acr: null,
    amr: null, // the login's methods (e.g. pwd, otp): the hub reads its second factor from them
    auth_time: null,
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'hub_rol', 'hub_scope'],
  },
  conformIdTokenClaims: false, // the claims go into the ID token too
  features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(ctx, id) {
    if (!users[id]) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...users[id] }; } };
  },
});
provider.proxy = false;

function body(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(new URLSearchParams(data)));
  });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'POST' && match[2]) {
      const form = await body(req);
      const login = form.get('login');
      if (!users[login]) { res.writeHead(403); return res.end('unknown user'); }
      const amr = (form.get('amr') || 'pwd').split(',').filter(Boolean);
      const result = { login: { accountId: login, amr, ...(form.get('acr') ? { acr: form.get('acr') } : {}) } };
      return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'login') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(`<form method="post" action="/interaction/${details.uid}/login">`
        + '<input name="login"><input name="amr"><input name="acr"><button>in</button></form>');
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  } catch (err) {
    res.writeHead(500); res.end(String(err));
  }
});
server.listen(port, '127.0.0.1', () => { console.log(`ready ${issuer}`); });
