import { test, expect } from '../support/fixtures.ts';
import { observeDifference } from '../support/claims.ts';

test('[C06] the realm discovery document is served through the TLS proxy', async ({ target, request }) => {
  const res = await request.get(`${target.issuer}/.well-known/openid-configuration`);
  expect(res.status()).toBe(200);
  const doc = (await res.json()) as Record<string, unknown>;
  expect(doc.issuer).toBe(target.issuer);
  expect(String(doc.authorization_endpoint)).toMatch(new RegExp(`^${target.issuer}/protocol/openid-connect/auth$`));
  expect(doc.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'groups']));
});

test('[C11] / answers with the login page and its "Keycloak" button', async ({ target, request, plugin }) => {
  // a browser's page load of / (the plugin tells page loads from API calls by these headers)
  const first = await request.get(`${target.mlflowUrl}/`, { maxRedirects: 0, headers: { Accept: 'text/html', 'Sec-Fetch-Dest': 'document' } });
  expect(first.status()).toBe(plugin.rootWithoutSession.status);
  // the page a browser ends up on: / itself, or where it is sent
  const location = first.headers()['location'];
  const res = location ? await request.get(new URL(location, first.url()).toString(), { headers: { Accept: 'text/html', 'Sec-Fetch-Dest': 'document' } }) : first;
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toContain('text/html');
  const html = await res.text();
  // the seed's page: the server sends the login HTML with its "Keycloak" button
  const seedPage = html.includes('<title>Login</title>') && /<a href="\/login"><button>Keycloak<\/button><\/a>/.test(html);
  if (plugin.rootWithoutSession.location) {
    // 6.x+: / sends a visitor without a session into the UI, whose login page is a client-side app
    expect(location).toMatch(plugin.rootWithoutSession.location);
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '(no title)';
    observeDifference('login-page-is-spa', seedPage, `GET / → ${first.status()} ${location}; that page: ${res.status()} "${title}", ${html.includes('<script') ? 'scripts' : 'no scripts'}, ${seedPage ? 'a server-rendered' : 'no server-rendered'} Keycloak button`);
    return;
  }
  expect(location).toBeUndefined();
  expect(seedPage, `GET / → ${html.slice(0, 200)}`).toBe(true);
});
