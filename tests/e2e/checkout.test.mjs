// A whole checkout through Commerce Layer's own JavaScript SDK, against a live OMS server.
// Run with `node --test tests/e2e/checkout.test.mjs`; the environment is described in README.md.
//
// Seed expected (tests/e2e/test_sdk_checkout.py makes it), in market OMS_MARKET_CODE:
//   - OMS_CART: JSON [{sku_code, unit_cents, quantity}], SKUs of one shipping category, each with
//     OMS_STOCK_QUANTITY units in the one stock location of the market's inventory model;
//   - OMS_SHIPPING_METHOD_ID, the only shipping method, costing OMS_SHIPPING_CENTS;
//   - OMS_WIRE_TRANSFER_METHOD_ID, a `wire_transfers` payment method of a manual gateway;
//   - OMS_DECLINING_METHOD_ID, an `external_payments` payment method whose gateway (a local
//     HTTP server of the pytest module) declines every card.
//
// Why wire transfers and not the OMS's `test_payments`: the SDK has no such resource
// (`cl.test_payments` is undefined, `cl.resources()` does not list it) and no public raw-request
// method (its adapter is protected). `wire_transfers` and `external_payments` are SDK resources,
// so every call below is the SDK's public API. A manual gateway authorizes at once; a declined
// card is an external gateway that declines the authorization.

import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'

import { clientWithToken, describeLastRequest, env, integrationToken, salesChannelToken } from './sdk_client.mjs'

const CART = JSON.parse(env('OMS_CART'))
const SHIPPING_CENTS = Number(env('OMS_SHIPPING_CENTS'))
const SHIPPING_METHOD_ID = env('OMS_SHIPPING_METHOD_ID')
const WIRE_TRANSFER_METHOD_ID = env('OMS_WIRE_TRANSFER_METHOD_ID')
const DECLINING_METHOD_ID = env('OMS_DECLINING_METHOD_ID')
const STOCK_QUANTITY = Number(env('OMS_STOCK_QUANTITY'))
const TOTAL_CENTS = CART.reduce((sum, item) => sum + item.unit_cents * item.quantity, 0) + SHIPPING_CENTS
const PARTIAL_CAPTURE_CENTS = 2000
const REFUND_CENTS = 1000

let salesChannel
let integration

before(async () => {
  const [scToken, intToken] = await Promise.all([salesChannelToken(), integrationToken()])
  salesChannel = clientWithToken(scToken)
  integration = clientWithToken(intToken)
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
  assert.equal(String(error.errors[0].status), String(status))
  return error
}

function statuses(order) {
  return { status: order.status, payment_status: order.payment_status, fulfillment_status: order.fulfillment_status }
}

// The storefront's part, up to (not including) placing: returns the order and its shipments.
async function buildCart({ paymentMethodId, addSource }) {
  const cl = salesChannel
  // No market relationship: the token's scope names the market.
  const draft = await cl.orders.create({})
  assert.equal(draft.type, 'orders')
  assert.equal(draft.status, 'draft')
  const order = cl.orders.relationship(draft.id)

  for (const { sku_code, quantity } of CART) {
    const item = await cl.line_items.create({ order, sku_code, quantity })
    assert.equal(item.type, 'line_items')
    assert.equal(item.quantity, quantity)
  }
  const address = await cl.addresses.create({
    first_name: 'Ada',
    last_name: 'Lovelace',
    line_1: '1 Analytical Street',
    city: 'London',
    zip_code: 'N1 7GU',
    country_code: 'GB',
    phone: '+44 20 7946 0000',
  })
  assert.equal(address.type, 'addresses')

  const pending = await cl.orders.update({
    id: draft.id,
    customer_email: 'ada@example.com',
    billing_address: cl.addresses.relationship(address.id),
    _shipping_address_same_as_billing: true,
    payment_method: cl.payment_methods.relationship(paymentMethodId),
  }, { include: ['billing_address', 'shipping_address', 'payment_method'] })
  assert.equal(pending.status, 'pending')
  assert.equal(pending.customer_email, 'ada@example.com')
  assert.equal(pending.billing_address?.id, address.id)
  assert.equal(pending.shipping_address?.city, 'London', 'the shipping address copies the billing one')
  assert.equal(pending.payment_method?.id, paymentMethodId)

  const shipments = Array.from(await cl.orders.shipments(draft.id, { include: ['available_shipping_methods'] }))
  assert.equal(shipments.length, 1, 'one stock location, one shipping category: one shipment')
  for (const shipment of shipments) {
    assert.equal(shipment.type, 'shipments')
    assert.deepEqual(Array.from(shipment.available_shipping_methods ?? [], (m) => m.id), [SHIPPING_METHOD_ID])
    const updated = await cl.shipments.update(
      { id: shipment.id, shipping_method: cl.shipping_methods.relationship(SHIPPING_METHOD_ID) },
      { include: ['shipping_method'] },
    )
    assert.equal(updated.shipping_method?.id, SHIPPING_METHOD_ID)
  }

  const source = await addSource(cl, order)
  assert.equal(typeof source.id, 'string')
  return { id: draft.id, shipments }
}

const addWireTransfer = (cl, order) => cl.wire_transfers.create({ order })
const addDecliningExternalPayment = (cl, order) =>
  cl.external_payments.create({ order, payment_source_token: 'tok_declined' })

async function pendingReservations(orderId) {
  return Array.from(await integration.stock_reservations.list({ filters: { order_id_eq: orderId, status_eq: 'pending' }, pageSize: 25 }))
}

async function stockQuantities() {
  const quantities = {}
  for (const { sku_code } of CART) {
    const items = Array.from(await integration.stock_items.list({ filters: { sku_code_eq: sku_code } }))
    assert.equal(items.length, 1, sku_code)
    quantities[sku_code] = items[0].quantity
  }
  return quantities
}

describe('checkout through the SDK', () => {
  test('place, approve, capture in two steps, ship, deliver, refund', async () => {
    const { id, shipments } = await buildCart({ paymentMethodId: WIRE_TRANSFER_METHOD_ID, addSource: addWireTransfer })

    const placed = await salesChannel.orders._place(id)
    assert.deepEqual(statuses(placed), { status: 'placed', payment_status: 'authorized', fulfillment_status: 'unfulfilled' })
    assert.equal(placed.total_amount_with_taxes_cents, TOTAL_CENTS)
    assert.equal(placed.place_total_amount_cents, TOTAL_CENTS)
    assert.equal((await pendingReservations(id)).length, CART.length, 'one reservation a line item')
    for (const shipment of shipments) {
      assert.equal((await salesChannel.shipments.retrieve(shipment.id)).status, 'upcoming')
    }

    // staff triggers are not the storefront's
    await expectApiError(salesChannel, salesChannel.orders._approve(id), 401)

    const approved = await integration.orders._approve(id)
    assert.equal(approved.status, 'approved')
    assert.equal((await pendingReservations(id)).length, 0, 'approving turns reservations into decrements')
    assert.deepEqual(
      await stockQuantities(),
      Object.fromEntries(CART.map(({ sku_code, quantity }) => [sku_code, STOCK_QUANTITY - quantity])),
    )

    const authorizations = Array.from(await integration.orders.authorizations(id))
    assert.equal(authorizations.length, 1)
    assert.equal(authorizations[0].amount_cents, TOTAL_CENTS)
    // the amount alone is the trigger (the SDK sends only `_capture_amount_cents`)
    const partial = await integration.authorizations._capture_amount_cents(
      authorizations[0].id,
      PARTIAL_CAPTURE_CENTS,
    )
    assert.equal(partial.id, authorizations[0].id)
    assert.equal(partial.capture_amount_cents, PARTIAL_CAPTURE_CENTS, 'the partial capture moved money')
    assert.equal(partial.capture_balance_cents, TOTAL_CENTS - PARTIAL_CAPTURE_CENTS)
    assert.deepEqual(
      Array.from(await integration.orders.captures(id)).map((c) => [c.amount_cents, c.succeeded]),
      [[PARTIAL_CAPTURE_CENTS, true]],
    )
    let order = await integration.orders.retrieve(id)
    assert.deepEqual(
      [order.payment_status, order.fulfillment_status],
      ['partially_paid', 'in_progress'],
    )

    order = await integration.orders._capture(id)
    assert.equal(order.payment_status, 'paid')

    for (const shipment of shipments) {
      let current
      for (const trigger of ['_picking', '_packing', '_ready_to_ship', '_ship', '_deliver']) {
        current = await integration.shipments[trigger](shipment.id)
        assert.equal(current.id, shipment.id, trigger)
      }
      assert.equal(current.status, 'delivered')
    }
    order = await integration.orders.retrieve(id)
    assert.equal(order.fulfillment_status, 'fulfilled')

    const captures = Array.from(await integration.orders.captures(id))
    assert.deepEqual(
      captures.map((c) => c.amount_cents).sort((a, b) => a - b),
      [PARTIAL_CAPTURE_CENTS, TOTAL_CENTS - PARTIAL_CAPTURE_CENTS],
    )
    const rest = captures.find((c) => c.amount_cents === TOTAL_CENTS - PARTIAL_CAPTURE_CENTS)
    // the amount alone is the trigger (the SDK sends only `_refund_amount_cents`)
    const refunded = await integration.captures._refund_amount_cents(rest.id, REFUND_CENTS)
    assert.equal(refunded.id, rest.id)
    assert.equal(refunded.refund_amount_cents, REFUND_CENTS, 'the partial refund moved money')
    assert.equal(refunded.refund_balance_cents, rest.amount_cents - REFUND_CENTS)
    order = await integration.orders.retrieve(id)
    assert.deepEqual(statuses(order), { status: 'approved', payment_status: 'partially_refunded', fulfillment_status: 'fulfilled' })
    const refunds = Array.from(await integration.orders.refunds(id))
    assert.deepEqual(refunds.map((r) => r.amount_cents), [REFUND_CENTS])
  })

  test('a declined payment: _place is a 422, the order stays pending, nothing reserved or authorized', async () => {
    const before = await stockQuantities()
    const { id } = await buildCart({ paymentMethodId: DECLINING_METHOD_ID, addSource: addDecliningExternalPayment })

    const error = await expectApiError(salesChannel, salesChannel.orders._place(id), 422)
    // the failed authorization's error_code: the gateway declined the card
    assert.equal(error.first().code, 'PAYMENT_DECLINED', JSON.stringify(error.errors))

    const order = await integration.orders.retrieve(id)
    assert.equal(order.status, 'pending')
    assert.equal((await pendingReservations(id)).length, 0)
    assert.equal(
      Array.from(await integration.stock_reservations.list({ filters: { order_id_eq: id } })).length,
      0,
      'no reservation at all, even released',
    )
    const authorizations = Array.from(await integration.orders.authorizations(id))
    assert.ok(authorizations.every((a) => a.succeeded === false), JSON.stringify(authorizations))
    // a failed authorization leaves the order unpaid
    assert.equal(order.payment_status, 'unpaid')
    assert.deepEqual(await stockQuantities(), before)
  })

  test('cancelling a placed order voids its authorization and gives the stock back', async () => {
    const before = await stockQuantities()
    const { id, shipments } = await buildCart({ paymentMethodId: WIRE_TRANSFER_METHOD_ID, addSource: addWireTransfer })
    const placed = await salesChannel.orders._place(id)
    assert.deepEqual([placed.status, placed.payment_status], ['placed', 'authorized'])
    assert.equal((await pendingReservations(id)).length, CART.length)

    const cancelled = await integration.orders._cancel(id)
    assert.deepEqual([cancelled.status, cancelled.payment_status], ['cancelled', 'voided'])
    assert.equal(
      Array.from(await integration.stock_reservations.list({ filters: { order_id_eq: id } })).length,
      0,
      'the reservations are gone',
    )
    for (const { sku_code } of CART) {
      const held = Array.from(await integration.stock_reservations.list({ filters: { sku_code_eq: sku_code, status_eq: 'pending' } }))
      assert.equal(held.length, 0, `${sku_code}: nothing holds its stock any more`)
    }
    assert.deepEqual(await stockQuantities(), before, 'a cancelled placement never decremented')
    for (const shipment of shipments) {
      assert.equal((await integration.shipments.retrieve(shipment.id)).status, 'cancelled')
    }
    const voids = Array.from(await integration.orders.voids(id))
    assert.equal(voids.length, 1)
  })
})

// Issue 10: the back office sets up a coupon and a gift card through the SDK, the storefront
// enters them on its cart; an unknown coupon is an ApiError 422 pointing at coupon_code.
describe('a coupon and a partial gift-card payment through the SDK', () => {
  const COUPON_CODE = 'E2E-SAVE10'
  const GIFT_CARD_CENTS = 1000
  let couponId
  let giftCard

  before(async () => {
    const [market] = Array.from(await integration.markets.list({ filters: { code_eq: env('OMS_MARKET_CODE') } }))
    const now = Date.now()
    const promotion = await integration.percentage_discount_promotions.create({
      name: 'E2E 10% off',
      percentage: 10,
      starts_at: new Date(now - 86_400_000).toISOString(),
      expires_at: new Date(now + 86_400_000).toISOString(),
      market: integration.markets.relationship(market.id),
    })
    assert.equal(promotion.type, 'percentage_discount_promotions')
    assert.equal(promotion.status, 'active')
    const rule = await integration.coupon_codes_promotion_rules.create({
      promotion: integration.percentage_discount_promotions.relationship(promotion.id),
    })
    const coupon = await integration.coupons.create({
      code: COUPON_CODE,
      usage_limit: 10,
      promotion_rule: integration.coupon_codes_promotion_rules.relationship(rule.id),
    })
    couponId = coupon.id
    const card = await integration.gift_cards.create({ currency_code: 'EUR', balance_cents: GIFT_CARD_CENTS })
    assert.equal(card.status, 'draft')
    await integration.gift_cards._purchase(card.id)
    giftCard = await integration.gift_cards._activate(card.id)
    assert.equal(giftCard.status, 'active')
  })

  test('an unknown coupon is a 422 ApiError pointing at coupon_code, and changes nothing', async () => {
    const { id } = await buildCart({ paymentMethodId: WIRE_TRANSFER_METHOD_ID, addSource: addWireTransfer })
    const error = await expectApiError(salesChannel, salesChannel.orders.update({ id, coupon_code: 'NOT-A-COUPON' }), 422)
    assert.equal(error.first().code, 'COUPON_UNKNOWN', JSON.stringify(error.errors))
    assert.equal(error.first().source?.pointer, '/data/attributes/coupon_code')
    const order = await salesChannel.orders.retrieve(id)
    assert.equal(order.discount_amount_cents, 0)
    assert.ok(!order.coupon_code)
  })

  test('the coupon takes 10% off, the gift card pays 10.00, the rest is authorized at _place', async () => {
    const { id } = await buildCart({ paymentMethodId: WIRE_TRANSFER_METHOD_ID, addSource: addWireTransfer })
    const subtotal = CART.reduce((sum, item) => sum + item.unit_cents * item.quantity, 0)
    const discount = CART.reduce((sum, item) => sum + Math.round(item.unit_cents * item.quantity / 10), 0)

    let order = await salesChannel.orders.update({ id, coupon_code: COUPON_CODE.toLowerCase() }, { include: ['line_items'] })
    assert.equal(order.coupon_code, COUPON_CODE)
    assert.equal(order.discount_amount_cents, -discount)
    const promotionLines = Array.from(order.line_items ?? []).filter((l) => l.item_type === 'percentage_discount_promotions')
    assert.equal(promotionLines.length, 1)
    assert.equal(promotionLines[0].total_amount_cents, -discount)
    const skuDiscounts = Array.from(order.line_items ?? []).filter((l) => l.item_type === 'skus').reduce((s, l) => s + l.discount_cents, 0)
    assert.equal(skuDiscounts, -discount, 'the discount is spread over the SKU lines exactly')

    order = await salesChannel.orders.update({ id, gift_card_code: giftCard.code })
    assert.equal(order.gift_card_amount_cents, -GIFT_CARD_CENTS)
    const due = subtotal + SHIPPING_CENTS - discount - GIFT_CARD_CENTS
    assert.equal(order.total_amount_with_taxes_cents, due)

    const placed = await salesChannel.orders._place(id)
    assert.deepEqual([placed.status, placed.payment_status], ['placed', 'authorized'])
    const [authorization] = Array.from(await integration.orders.authorizations(id))
    assert.equal(authorization.amount_cents, due)
    assert.equal((await integration.coupons.retrieve(couponId)).usage_count, 1)
    assert.equal((await integration.gift_cards.retrieve(giftCard.id)).balance_cents, 0)

    const cancelled = await integration.orders._cancel(id)
    assert.equal(cancelled.status, 'cancelled')
    assert.equal((await integration.coupons.retrieve(couponId)).usage_count, 0)
    assert.equal((await integration.gift_cards.retrieve(giftCard.id)).balance_cents, GIFT_CARD_CENTS)
  })
})
