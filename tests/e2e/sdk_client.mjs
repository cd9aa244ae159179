// Builds Commerce Layer SDK clients (unmodified @commercelayer/sdk) that talk to a live OMS server.
//
// The SDK always builds `https://{organization}.{domain}/api/{path}?{query}` (lib/client.js,
// `baseURL()` + `new URL(`${baseUrl}/${path}`)`) and calls `fetch(url: URL, init)`. We pass our own
// `fetch` option that checks the URL the SDK built and re-targets it at OMS_API_BASE, keeping path
// and query byte for byte. See SDK_NOTES.md for the evidence.
//
// Environment (see README.md):
//   OMS_API_BASE                    http://127.0.0.1:PORT (no trailing /api)
//   OMS_ORG_SLUG, OMS_DOMAIN        what the SDK puts in the host it builds (domain defaults to
//                                   commercelayer.io, as the SDK's own default)
//   OMS_MARKET_CODE                 the market in the tokens' scope (market:code:<code>)
//   OMS_SALES_CHANNEL_CLIENT_ID     a sales-channel application (client_id only)
//   OMS_INTEGRATION_CLIENT_ID       an integration application with the admin role
//   OMS_INTEGRATION_CLIENT_SECRET

import { CommerceLayer } from '@commercelayer/sdk/bundle'

export function env(name, fallback) {
  const value = process.env[name]
  if (value !== undefined && value !== '') return value
  if (fallback !== undefined) return fallback
  throw new Error(`environment variable ${name} is required (see tests/e2e/README.md)`)
}

export const config = {
  get apiBase() { return env('OMS_API_BASE').replace(/\/+$/, '') },
  get organization() { return env('OMS_ORG_SLUG') },
  get domain() { return env('OMS_DOMAIN', 'commercelayer.io') },
  get marketCode() { return env('OMS_MARKET_CODE') },
  get scope() { return `market:code:${env('OMS_MARKET_CODE')}` },
}

// Every request the SDK made through us, newest last: handy in assertion messages.
export const requestLog = []

export function lastRequest() {
  return requestLog.at(-1)
}

export function describeLastRequest() {
  const r = lastRequest()
  return r ? `last request: ${r.method} ${r.url} -> ${r.status ?? r.error}` : 'no request made'
}

// A fetch for the SDK's `fetch` option. The SDK calls it as `fetch(url, init)` where `url` is a
// WHATWG URL object and `init` is `{ method, body, headers, signal }` (lib/fetch.js, `fetchURL`).
export function rewritingFetch({ apiBase, organization, domain }) {
  const expectedPrefix = `https://${organization.toLowerCase()}.${domain}/api/`
  const target = new URL(apiBase)
  return async (input, init = {}) => {
    const sdkUrl = new URL(String(input))
    if (!sdkUrl.href.startsWith(expectedPrefix)) {
      throw new Error(`the SDK built ${sdkUrl.href}, expected a URL under ${expectedPrefix}`)
    }
    // Keep the path and the query string exactly as the SDK encoded them.
    const url = `${target.origin}${target.pathname.replace(/\/+$/, '')}${sdkUrl.pathname}${sdkUrl.search}`
    const entry = { method: init.method ?? 'GET', url, body: init.body }
    requestLog.push(entry)
    if (requestLog.length > 50) requestLog.shift()
    try {
      const response = await fetch(url, { ...init, redirect: 'manual' })
      entry.status = response.status
      return response
    } catch (error) {
      entry.error = String(error)
      throw error
    }
  }
}

// A client of the bundle flavour (`cl.skus`, `cl.prices`, ...): each instance keeps its own token.
// (`import CommerceLayer from '@commercelayer/sdk'` gives a client WITHOUT resource getters in 7.x.)
export function clientWithToken(accessToken, overrides = {}) {
  const organization = overrides.organization ?? config.organization
  const domain = overrides.domain ?? config.domain
  const apiBase = overrides.apiBase ?? config.apiBase
  return CommerceLayer({
    organization,
    domain,
    accessToken,
    fetch: rewritingFetch({ apiBase, organization, domain }),
    ...(overrides.refreshToken ? { refreshToken: overrides.refreshToken } : {}),
  })
}

// POST /oauth/token with plain fetch, the way @commercelayer/js-auth does it (JSON body,
// Accept: application/json), but at OMS_API_BASE instead of https://auth.{domain}.
export async function fetchToken({ clientId, clientSecret, scope = config.scope, apiBase = config.apiBase }) {
  const body = { grant_type: 'client_credentials', client_id: clientId, scope }
  if (clientSecret) body.client_secret = clientSecret
  const response = await fetch(`${apiBase}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    redirect: 'manual',
  })
  const text = await response.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    throw new Error(`POST ${apiBase}/oauth/token answered ${response.status} with a non-JSON body: ${text.slice(0, 500)}`)
  }
  if (!response.ok || typeof json.access_token !== 'string') {
    throw new Error(`POST ${apiBase}/oauth/token answered ${response.status}: ${text.slice(0, 500)}`)
  }
  return json
}

export async function salesChannelToken() {
  return (await fetchToken({ clientId: env('OMS_SALES_CHANNEL_CLIENT_ID') })).access_token
}

export async function integrationToken() {
  return (await fetchToken({
    clientId: env('OMS_INTEGRATION_CLIENT_ID'),
    clientSecret: env('OMS_INTEGRATION_CLIENT_SECRET'),
  })).access_token
}

export async function salesChannelClient() {
  return clientWithToken(await salesChannelToken())
}

export async function integrationClient() {
  return clientWithToken(await integrationToken())
}

// Decode a JWT's claims without verifying it (the SDK does the same in lib/util.js).
export function jwtClaims(token) {
  const [, payload] = String(token).split('.')
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
}
