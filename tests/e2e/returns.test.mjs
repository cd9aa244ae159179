// Returns through Commerce Layer's own JavaScript SDK, against a live OMS server.
// Run by tests/e2e/test_sdk_returns.py, which seeds, in market OMS_MARKET_CODE, the shop of
// test_sdk_checkout.py (OMS_CART in stock, OMS_SHIPPING_METHOD_ID, OMS_WIRE_TRANSFER_METHOD_ID)
// and a customer who can log in (OMS_CUSTOMER_EMAIL, OMS_CUSTOMER_PASSWORD).
//
// The customer logs in with the password grant (POST /oauth/token, as @commercelayer/js-auth
// does it) and buys; the back office approves, captures and ships the order; then the customer
// opens a return, fills and requests it, and the back office approves, ships, receives,
// restocks and refunds it. Every call is the SDK's public API (`cl.returns`,
// `cl.return_line_items` and their trigger methods, which send the trigger attribute alone).

import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { clientWithToken, config, describeLastRequest, env, integrationToken } from './sdk_client.mjs'

const CART = JSON.parse(env('OMS_CART'))
const SHIPPING_METHOD_ID = env('OMS_SHIPPING_METHOD_ID')
const WIRE_TRANSFER_METHOD_ID = env('OMS_WIRE_TRANSFER_METHOD_ID')
const CUSTOMER = { email: env('OMS_CUSTOMER_EMAIL'), password: env('OMS_CUSTOMER_PASSWORD') }
const PARTIAL_REFUND_CENTS = 500

let integration
let buyer

// The password grant: the customer's own token, in the sales channel's market.
async function customerToken({ email, password }) {
  const response = await fetch(`${config.apiBase}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({
      grant_type: 'password',
      client_id: env('OMS_SALES_CHANNEL_CLIENT_ID'),
      username: email,
      password,
      scope: config.scope,
    }),
  })
  const body = await response.json()
  assert.equal(response.status, 200, JSON.stringify(body))
  return body.access_token
}

before(async () => {
  integration = clientWithToken(await integrationToken())
  buyer = clientWithToken(await customerToken(CUSTOMER))
})

// Await `promise`, expecting the SDK to reject it with an ApiError of `status`.
async function expectApiError(cl, promise, status) {
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
  return error
}

// The customer buys OMS_CART; the back office approves, captures and ships it.
async function fulfilledOrder() {
  const draft = await buyer.orders.create({})
  const order = buyer.orders.relationship(draft.id)
  for (const { sku_code, quantity } of CART) {
    await buyer.line_items.create({ order, sku_code, quantity })
  }
  const address = await buyer.addresses.create({
    first_name: 'Ada',
    last_name: 'Lovelace',
    line_1: '1 Analytical Street',
    city: 'London',
    zip_code: 'N1 7GU',
    country_code: 'GB',
    phone: '+44 20 7946 0000',
  })
  await buyer.orders.update({
    id: draft.id,
    billing_address: buyer.addresses.relationship(address.id),
    _shipping_address_same_as_billing: true,
    payment_method: buyer.payment_methods.relationship(WIRE_TRANSFER_METHOD_ID),
  })
  for (const shipment of await buyer.orders.shipments(draft.id)) {
    await buyer.shipments.update({ id: shipment.id, shipping_method: buyer.shipping_methods.relationship(SHIPPING_METHOD_ID) })
  }
  await buyer.wire_transfers.create({ order })
  assert.equal((await buyer.orders._place(draft.id)).status, 'placed')

  await integration.orders._approve(draft.id)
  assert.equal((await integration.orders._capture(draft.id)).payment_status, 'paid')
  for (const shipment of await integration.orders.shipments(draft.id)) {
    for (const trigger of ['_picking', '_packing', '_ready_to_ship', '_ship']) {
      await integration.shipments[trigger](shipment.id)
    }
  }
  const fulfilled = await integration.orders.retrieve(draft.id)
  assert.equal(fulfilled.fulfillment_status, 'fulfilled')
  return fulfilled
}

async function stockQuantity(skuCode) {
  const items = Array.from(await integration.stock_items.list({ filters: { sku_code_eq: skuCode } }))
  assert.equal(items.length, 1, skuCode)
  return items[0].quantity
}

describe('a return through the SDK', () => {
  const state = {}

  before(async () => {
    state.order = await fulfilledOrder()
    const lines = Array.from(await buyer.orders.line_items(state.order.id, { filters: { item_type_eq: 'skus' } }))
    assert.equal(lines.length, CART.length)
    state.lines = Object.fromEntries(lines.map((line) => [line.sku_code, line]))
  })

  test('the customer opens a return, adds a line and requests it', async () => {
    const [first] = CART
    const ret = await buyer.returns.create({ order: buyer.orders.relationship(state.order.id), reference: 'RMA-E2E' })
    assert.equal(ret.type, 'returns')
    assert.equal(ret.status, 'draft')
    assert.equal(ret.number, `${state.order.number}/R/001`)
    assert.equal(ret.customer_email, CUSTOMER.email)

    // more units than were shipped: a 422 pointing at the quantity, and no line
    const tooMany = await expectApiError(buyer, buyer.return_line_items.create({
      return: buyer.returns.relationship(ret.id),
      line_item: buyer.line_items.relationship(state.lines[first.sku_code].id),
      quantity: first.quantity + 1,
    }), 422)
    assert.equal(tooMany.first().code, 'RETURN_QUANTITY_EXCEEDED', JSON.stringify(tooMany.errors))
    assert.equal(tooMany.first().source?.pointer, '/data/attributes/quantity')

    const line = await buyer.return_line_items.create({
      return: buyer.returns.relationship(ret.id),
      line_item: buyer.line_items.relationship(state.lines[first.sku_code].id),
      quantity: 1,
      return_reason: { size: 'too small' },
    })
    assert.equal(line.type, 'return_line_items')
    assert.equal(line.sku_code, first.sku_code)
    assert.equal(line.total_amount_cents, first.unit_cents)
    assert.deepEqual(line.return_reason, { size: 'too small' })

    const requested = await buyer.returns.update({ id: ret.id, _request: true }, { include: ['return_line_items'] })
    assert.equal(requested.status, 'requested')
    assert.equal(requested.skus_count, 1)
    assert.equal(requested.estimated_refund_amount_cents, first.unit_cents)
    assert.deepEqual(Array.from(requested.return_line_items ?? [], (l) => l.id), [line.id])
    assert.deepEqual(Array.from(await buyer.orders.returns(state.order.id), (r) => r.id), [ret.id])
    state.ret = ret
    state.line = line
  })

  test('the customer cannot approve its own return: an ApiError with its code and pointer', async () => {
    const error = await expectApiError(buyer, buyer.returns._approve(state.ret.id), 401)
    assert.equal(error.first().code, 'UNAUTHORIZED')
    assert.equal(error.first().source?.pointer, '/data/attributes/_approve')
    const refund = await expectApiError(buyer, buyer.returns._refund_amount_cents(state.ret.id, 100), 401)
    assert.equal(refund.first().source?.pointer, '/data/attributes/_refund_amount_cents')
    assert.equal((await integration.returns.retrieve(state.ret.id)).status, 'requested')
  })

  test('the back office approves, ships, receives, restocks and refunds it', async () => {
    const [first] = CART
    const id = state.ret.id
    const approved = await integration.returns._approve(id)
    assert.equal(approved.status, 'approved')
    assert.ok(approved.approved_at)
    assert.equal((await integration.returns._ship(id)).status, 'shipped')
    const received = await integration.returns._receive(id)
    assert.equal(received.status, 'received')
    assert.ok(received.received_at)

    const before = await stockQuantity(first.sku_code)
    await integration.returns._restock(id)
    assert.equal(await stockQuantity(first.sku_code), before + 1, 'the unit is back on the shelf')
    const [restocked] = Array.from(await integration.returns.return_line_items(id))
    assert.ok(restocked.restocked_at)

    const refunded = await integration.returns._refund(id, { include: ['reference_refund'] })
    assert.equal(refunded.status, 'refunded')
    assert.ok(refunded.refunded_at)
    assert.equal(refunded.reference_refund?.type, 'refunds')
    assert.equal(refunded.reference_refund?.amount_cents, first.unit_cents)
    const order = await integration.orders.retrieve(state.order.id)
    assert.equal(order.payment_status, 'partially_refunded')
    assert.equal(order.status, 'approved', 'a return never moves the order')

    // the return is refunded: receiving it again is refused, with the trigger's pointer
    const error = await expectApiError(integration, integration.returns._receive(id), 422)
    assert.equal(error.first().code, 'TRANSITION_NOT_ALLOWED', JSON.stringify(error.errors))
    assert.equal(error.first().source?.pointer, '/data/attributes/_receive')
    // the customer sees how it ended
    assert.equal((await buyer.returns.retrieve(id)).status, 'refunded')
  })

  test('a second return is refunded the amount given alone (`_refund_amount_cents`)', async () => {
    const second = CART[1] ?? CART[0]
    const ret = await buyer.returns.create({ order: buyer.orders.relationship(state.order.id) })
    await buyer.return_line_items.create({
      return: buyer.returns.relationship(ret.id),
      line_item: buyer.line_items.relationship(state.lines[second.sku_code].id),
      quantity: 1,
    })
    await buyer.returns._request(ret.id)
    for (const trigger of ['_approve', '_ship', '_receive']) {
      await integration.returns[trigger](ret.id)
    }
    const refunded = await integration.returns._refund_amount_cents(ret.id, PARTIAL_REFUND_CENTS, { include: ['reference_refund'] })
    assert.equal(refunded.status, 'refunded')
    assert.equal(refunded.reference_refund?.amount_cents, PARTIAL_REFUND_CENTS)
    const refunds = Array.from(await integration.orders.refunds(state.order.id), (r) => r.amount_cents).sort((a, b) => a - b)
    assert.deepEqual(refunds, [PARTIAL_REFUND_CENTS, CART[0].unit_cents].sort((a, b) => a - b))
    const customerId = (await buyer.returns.retrieve(ret.id, { include: ['customer'] })).customer?.id
    assert.ok(customerId)
    assert.equal(Array.from(await buyer.customers.returns(customerId)).length, 2)
  })
})
