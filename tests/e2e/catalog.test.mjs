// The catalog through Commerce Layer's own JavaScript SDK, against a live OMS server.
// Run with `node --test tests/e2e/catalog.test.mjs`; the environment is described in README.md.
//
// Seed expected (tests/e2e/test_sdk_catalog.py makes it):
//   - OMS_SKU_COUNT SKUs whose code starts with OMS_SKU_PREFIX, each with a price in the price list
//     of market OMS_MARKET_CODE (currency OMS_CURRENCY_CODE);
//   - optionally OMS_EXPECTED_PRICES, a JSON object {sku code: amount_cents in that price list};
//   - no other SKU whose code starts with OMS_SKU_PREFIX.

import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import {
  clientWithToken,
  config,
  describeLastRequest,
  env,
  integrationToken,
  jwtClaims,
  salesChannelToken,
} from './sdk_client.mjs'

const PREFIX = env('OMS_SKU_PREFIX')
const SKU_COUNT = Number(env('OMS_SKU_COUNT'))
const CURRENCY = process.env.OMS_CURRENCY_CODE || undefined
const EXPECTED_PRICES = process.env.OMS_EXPECTED_PRICES ? JSON.parse(process.env.OMS_EXPECTED_PRICES) : undefined
const MAX_PAGE_SIZE = 25

assert.ok(Number.isInteger(SKU_COUNT) && SKU_COUNT >= 3, 'OMS_SKU_COUNT must be an integer >= 3 (pagination needs a few)')
assert.ok(SKU_COUNT <= MAX_PAGE_SIZE, `OMS_SKU_COUNT must be <= ${MAX_PAGE_SIZE} so one page holds the whole seed`)

const ascending = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

// ListResponse extends Array, so `.map()` builds another ListResponse through its constructor
// (meta = the length): always copy into a plain array before comparing.
const codes = (list) => Array.from(list, (sku) => sku.code)

// Await `promise`, expecting the SDK to reject it with an ApiError of `status`.
async function expectApiError(cl, promise, status, code) {
  let error
  try {
    await promise
  } catch (e) {
    error = e
  }
  assert.ok(error, `expected an ApiError ${status}, the call succeeded (${describeLastRequest()})`)
  assert.ok(cl.isApiError(error), `expected an ApiError, got ${error?.name}: ${error?.message} (${describeLastRequest()})`)
  assert.equal(error.status, status, `${JSON.stringify(error.errors)} (${describeLastRequest()})`)
  assert.ok(Array.isArray(error.errors) && error.errors.length > 0, 'the error document has an errors array')
  if (code) assert.equal(error.errors[0].code, code, JSON.stringify(error.errors))
  assert.equal(String(error.errors[0].status), String(status), 'errors[].status is the HTTP status, as a string')
  return error
}

let salesChannel
let integration

before(async () => {
  const [scToken, intToken] = await Promise.all([salesChannelToken(), integrationToken()])
  salesChannel = clientWithToken(scToken)
  integration = clientWithToken(intToken)
})

describe('tokens', () => {
  test('carry the claims the SDK and js-auth read', async () => {
    const claims = jwtClaims(salesChannel.currentAccessToken)
    assert.equal(claims.organization?.slug, config.organization)
    assert.equal(claims.iss, `https://auth.${config.domain}`)
    assert.equal(claims.application?.kind, 'sales_channel')
    assert.ok(Number.isInteger(claims.exp) && claims.exp * 1000 > Date.now(), 'exp is in the future')
    assert.ok(Array.isArray(claims.market?.id) && claims.market.id.length === 1, 'the market in scope')
    assert.equal(jwtClaims(integration.currentAccessToken).application?.kind, 'integration')
  })
})

describe('catalog as a sales channel', () => {
  let seeded // every seeded SKU, ascending by code

  before(async () => {
    seeded = await salesChannel.skus.list({ filters: { code_start: PREFIX }, sort: ['code'], pageSize: MAX_PAGE_SIZE })
  })

  test('lists SKUs with record and page counts', async () => {
    const page = await salesChannel.skus.list()
    assert.ok(page.recordCount >= SKU_COUNT, `recordCount ${page.recordCount} < ${SKU_COUNT} seeded`)
    assert.equal(page.pageCount, Math.ceil(page.recordCount / 10), 'default page size is 10')
    assert.equal(page.length, Math.min(10, page.recordCount))
    for (const sku of page) {
      assert.equal(sku.type, 'skus')
      assert.equal(typeof sku.id, 'string')
      assert.equal(typeof sku.code, 'string')
      assert.equal(typeof sku.name, 'string')
      assert.ok(sku.created_at && sku.updated_at, 'timestamps')
    }
  })

  test('filters with code_start', () => {
    assert.equal(seeded.recordCount, SKU_COUNT)
    assert.equal(seeded.pageCount, 1)
    assert.equal(seeded.length, SKU_COUNT)
    for (const sku of seeded) assert.ok(sku.code.startsWith(PREFIX), sku.code)
    const all = codes(seeded)
    assert.deepEqual(all, [...all].sort(ascending), 'sort=code is ascending')
  })

  test('retrieves one SKU by id', async () => {
    const first = seeded.first()
    const sku = await salesChannel.skus.retrieve(first.id)
    assert.equal(sku.id, first.id)
    assert.equal(sku.type, 'skus')
    assert.equal(sku.code, first.code)
    assert.equal(sku.name, first.name)
  })

  test('an unknown SKU id is a 404 ApiError', async () => {
    await expectApiError(salesChannel, salesChannel.skus.retrieve('doesNotExist0'), 404, 'RECORD_NOT_FOUND')
  })

  test('includes prices of the market only', async () => {
    const skus = await salesChannel.skus.list({ filters: { code_start: PREFIX }, include: ['prices'], pageSize: MAX_PAGE_SIZE })
    assert.equal(skus.length, SKU_COUNT)
    for (const sku of skus) {
      assert.ok(Array.isArray(sku.prices), `${sku.code}: relationships.prices.data must be present when included`)
      assert.ok(sku.prices.length >= 1, `${sku.code} has a price in the market's price list`)
      for (const price of sku.prices) {
        assert.equal(price.type, 'prices')
        assert.ok(Number.isInteger(price.amount_cents), `${sku.code}: price ${price.id} came back without its attributes (not in included?)`)
        if (CURRENCY) assert.equal(price.currency_code, CURRENCY, `${sku.code}: a price of another market leaked`)
        assert.equal(typeof price.formatted_amount, 'string')
      }
      if (EXPECTED_PRICES && sku.code in EXPECTED_PRICES) {
        assert.deepEqual(Array.from(sku.prices, (p) => p.amount_cents), [EXPECTED_PRICES[sku.code]], sku.code)
      }
    }
  })

  test('retrieve with include resolves the included resources', async () => {
    const sku = await salesChannel.skus.retrieve(seeded.first().id, { include: ['prices'] })
    assert.ok(Array.isArray(sku.prices) && sku.prices.length >= 1)
    assert.ok(Number.isInteger(sku.prices[0].amount_cents))
  })

  test('sorts by code descending', async () => {
    const desc = await salesChannel.skus.list({ filters: { code_start: PREFIX }, sort: { code: 'desc' }, pageSize: MAX_PAGE_SIZE })
    assert.deepEqual(codes(desc), codes(seeded).reverse())
  })

  test('paginates with pageSize and pageNumber', async () => {
    const size = 2
    const all = codes(seeded)
    const page2 = await salesChannel.skus.list({ filters: { code_start: PREFIX }, sort: ['code'], pageSize: size, pageNumber: 2 })
    assert.equal(page2.recordCount, SKU_COUNT)
    assert.equal(page2.pageCount, Math.ceil(SKU_COUNT / size))
    assert.deepEqual(codes(page2), all.slice(size, 2 * size))
    assert.equal(page2.hasPrevPage(), true)
    assert.equal(page2.hasNextPage(), SKU_COUNT > 2 * size)
    const last = await salesChannel.skus.list({ filters: { code_start: PREFIX }, sort: ['code'], pageSize: size, pageNumber: page2.pageCount })
    assert.deepEqual(codes(last), all.slice((page2.pageCount - 1) * size))
    assert.equal(last.hasNextPage(), false)
  })

  test('filter, include, sort, page and sparse fields in one query', async () => {
    const size = 2
    const page = await salesChannel.skus.list({
      filters: { code_start: PREFIX },
      include: ['prices'],
      sort: { code: 'desc' },
      pageSize: size,
      pageNumber: 2,
      fields: { skus: ['code', 'name', 'prices'], prices: ['amount_cents', 'currency_code'] },
    })
    const desc = codes(seeded).reverse()
    assert.equal(page.recordCount, SKU_COUNT)
    assert.deepEqual(codes(page), desc.slice(size, 2 * size))
    for (const sku of page) {
      assert.deepEqual(Object.keys(sku).sort(), ['code', 'id', 'name', 'prices', 'type'], 'only the requested fields')
      for (const price of sku.prices) {
        assert.deepEqual(Object.keys(price).filter((k) => !['id', 'type'].includes(k)).sort(), ['amount_cents', 'currency_code'])
      }
    }
  })

  test('cannot create, update or delete SKUs (401 UNAUTHORIZED, as Commerce Layer)', async () => {
    const sku = seeded.first()
    await expectApiError(salesChannel, salesChannel.skus.create({
      code: `${PREFIX}SC-WRITE`,
      name: 'must not exist',
      shipping_category: salesChannel.shipping_categories.relationship('anything'),
    }), 401, 'UNAUTHORIZED')
    await expectApiError(salesChannel, salesChannel.skus.update({ id: sku.id, name: 'hacked' }), 401, 'UNAUTHORIZED')
    await expectApiError(salesChannel, salesChannel.skus.delete(sku.id), 401, 'UNAUTHORIZED')
    const again = await salesChannel.skus.retrieve(sku.id)
    assert.equal(again.name, sku.name, 'nothing changed')
  })

  test('cannot create prices', async () => {
    const sku = seeded.first()
    await expectApiError(salesChannel, salesChannel.prices.create({
      amount_cents: 1,
      price_list: salesChannel.price_lists.relationship('anything'),
      sku: salesChannel.skus.relationship(sku.id),
    }), 401, 'UNAUTHORIZED')
  })
})

describe('expired token', () => {
  const expired = process.env.OMS_EXPIRED_TOKEN

  test('is a 401 INVALID_TOKEN ApiError (what the SDK needs to call its refreshToken hook)', { skip: !expired && 'OMS_EXPIRED_TOKEN is not set' }, async () => {
    const cl = clientWithToken(expired)
    await expectApiError(cl, cl.skus.list(), 401, 'INVALID_TOKEN')
  })

  test('with a refreshToken hook, the SDK refreshes once and retries', { skip: !expired && 'OMS_EXPIRED_TOKEN is not set' }, async () => {
    // The SDK refreshes only when the answer is 401 with errors[0].code INVALID_TOKEN and the
    // token's `exp` claim is in the past (lib/client.js, lib/error.js, lib/util.js).
    let calls = 0
    const cl = clientWithToken(expired, { refreshToken: async () => { calls += 1; return salesChannelToken() } })
    const page = await cl.skus.list({ filters: { code_start: PREFIX } })
    assert.equal(calls, 1)
    assert.equal(page.recordCount, SKU_COUNT)
  })
})

describe('catalog as an integration', () => {
  const code = `SDKTEST-${process.pid}-${Date.now()}`
  let shippingCategoryId
  let priceListId
  let created
  let price

  before(async () => {
    shippingCategoryId = process.env.OMS_SHIPPING_CATEGORY_ID
      || (await integration.shipping_categories.list({ pageSize: 1 })).first()?.id
    assert.ok(shippingCategoryId, 'a shipping category (OMS_SHIPPING_CATEGORY_ID or any listed)')
    priceListId = process.env.OMS_PRICE_LIST_ID
    if (!priceListId) {
      const markets = await integration.markets.list({ filters: { code_eq: config.marketCode }, include: ['price_list'] })
      priceListId = markets.first()?.price_list?.id
    }
    assert.ok(priceListId, `the price list of market ${config.marketCode} (OMS_PRICE_LIST_ID or the market's)`)
  })

  after(async () => {
    // Leave nothing behind if a step failed half-way.
    if (price?.id) await integration.prices.delete(price.id).catch(() => {})
    if (created?.id) await integration.skus.delete(created.id).catch(() => {})
  })

  test('creates a SKU', async () => {
    created = await integration.skus.create({
      code,
      name: 'E2E shirt',
      description: 'made by the SDK',
      weight: 300,
      unit_of_weight: 'gr',
      metadata: { source: 'sdk-e2e' },
      shipping_category: integration.shipping_categories.relationship(shippingCategoryId),
    }, { include: ['shipping_category'] })
    assert.equal(created.type, 'skus')
    assert.equal(typeof created.id, 'string')
    assert.ok(created.id.length >= 10, 'public ids are random strings of at least 10 characters')
    assert.equal(created.code, code)
    assert.equal(created.name, 'E2E shirt')
    assert.equal(created.unit_of_weight, 'gr')
    assert.deepEqual(created.metadata, { source: 'sdk-e2e' })
    assert.equal(created.shipping_category?.id, shippingCategoryId)
    assert.equal(created.shipping_category?.type, 'shipping_categories')
  })

  test('refuses a duplicate code with an ApiError carrying a source pointer', async () => {
    assert.ok(created, 'needs the SKU created above')
    const error = await expectApiError(integration, integration.skus.create({
      code,
      name: 'duplicate',
      shipping_category: integration.shipping_categories.relationship(shippingCategoryId),
    }), 422, 'VALIDATION_ERROR')
    assert.equal(error.errors[0].source?.pointer, '/data/attributes/code')
  })

  test('updates the SKU', async () => {
    assert.ok(created, 'needs the SKU created above')
    const updated = await integration.skus.update({ id: created.id, name: 'E2E shirt v2', description: null })
    assert.equal(updated.id, created.id)
    assert.equal(updated.name, 'E2E shirt v2')
    assert.ok(!updated.description, 'description cleared')
    assert.equal((await integration.skus.retrieve(created.id)).name, 'E2E shirt v2')
  })

  test('creates, updates and reads back a price for it', async () => {
    assert.ok(created, 'needs the SKU created above')
    price = await integration.prices.create({
      amount_cents: 4321,
      compare_at_amount_cents: 5000,
      price_list: integration.price_lists.relationship(priceListId),
      sku: integration.skus.relationship(created.id),
    }, { include: ['sku', 'price_list'] })
    assert.equal(price.type, 'prices')
    assert.equal(price.amount_cents, 4321)
    assert.equal(price.compare_at_amount_cents, 5000)
    assert.equal(price.sku_code, code)
    assert.equal(price.sku?.id, created.id)
    assert.equal(price.price_list?.id, priceListId)
    if (CURRENCY) assert.equal(price.currency_code, CURRENCY)

    const updated = await integration.prices.update({ id: price.id, amount_cents: 3999 })
    assert.equal(updated.amount_cents, 3999)

    const sku = await integration.skus.retrieve(created.id, { include: ['prices'] })
    assert.deepEqual(Array.from(sku.prices, (p) => [p.id, p.amount_cents]), [[price.id, 3999]])

    const related = await integration.skus.prices(created.id)
    assert.equal(related.recordCount, 1)
    assert.equal(related.first()?.id, price.id)
  })

  test('deletes the price, then the SKU', async () => {
    assert.ok(created && price, 'needs the SKU and price created above')
    assert.equal(await integration.prices.delete(price.id), undefined)
    await expectApiError(integration, integration.prices.retrieve(price.id), 404, 'RECORD_NOT_FOUND')
    price = undefined
    assert.equal(await integration.skus.delete(created.id), undefined)
    await expectApiError(integration, integration.skus.retrieve(created.id), 404, 'RECORD_NOT_FOUND')
    created = undefined
  })
})

describe('webhooks and events as an integration', () => {
  let webhook

  after(async () => {
    if (webhook?.id) await integration.webhooks.delete(webhook.id).catch(() => {})
  })

  test('lists the events and finds orders.place', async () => {
    const events = await integration.events.list({ filters: { name_eq: 'orders.place' } })
    assert.equal(events.length, 1, describeLastRequest())
    assert.equal(events.first().name, 'orders.place')
    // more topics than a page holds: the second page of the sorted list has the rest
    const first = await integration.events.list({ pageSize: 25, sort: { name: 'asc' } })
    const second = await integration.events.list({ pageSize: 25, pageNumber: 2, sort: { name: 'asc' } })
    assert.ok(first.recordCount > 25, String(first.recordCount))
    const names = [...Array.from(first, (event) => event.name), ...Array.from(second, (event) => event.name)]
    assert.ok(names.includes('shipments.ship') && names.includes('orders.pay'), names.join(','))
    assert.ok(names.includes('returns.receive') && names.includes('returns.refund'), names.join(','))
  })

  test('creates a webhook on a topic, and the event lists it', async () => {
    webhook = await integration.webhooks.create({
      name: 'SDK ERP',
      topic: 'orders.place',
      callback_url: 'https://erp.example.com/sdk-hooks',
      include_resources: ['line_items'],
    })
    assert.equal(webhook.circuit_state, 'closed')
    assert.equal(webhook.shared_secret.length, 32)
    const [event] = await integration.events.list({ filters: { name_eq: 'orders.place' }, include: ['webhooks'] })
    const ids = Array.from(event.webhooks ?? [], (hook) => hook.id)
    assert.ok(ids.includes(webhook.id), `${ids} (${describeLastRequest()})`)
  })

  test('an unknown topic is a 422 ApiError pointing at topic', async () => {
    let error
    try {
      await integration.webhooks.create({ topic: 'orders.explode', callback_url: 'https://erp.example.com/x' })
    } catch (e) {
      error = e
    }
    assert.ok(integration.isApiError(error), `expected an ApiError (${describeLastRequest()})`)
    assert.equal(error.status, 422)
    assert.equal(error.errors[0].code, 'TOPIC_UNKNOWN')
    assert.equal(error.errors[0].source.pointer, '/data/attributes/topic')
  })
})
