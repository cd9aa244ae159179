// A returning customer through Commerce Layer's own JavaScript SDK, against a live OMS server.
// Run by tests/e2e/test_sdk_returning_customer.py, which seeds, in market OMS_MARKET_CODE:
//   - OMS_CART: JSON [{sku_code, unit_cents, quantity}], in stock, of one shipping category;
//   - OMS_SHIPPING_METHOD_ID, the only shipping method;
//   - OMS_CARD_METHOD_ID, an `external_payments` method whose gateway (a local HTTP server)
//     authorizes every card and answers its token_url with a reusable token;
//   - OMS_MAIL_DIR, where the server writes its e-mails (Django's file e-mail backend).
//
// The customer logs in with the password grant (POST /oauth/token, as @commercelayer/js-auth
// does it); everything else is the SDK's public API.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'

import { clientWithToken, config, describeLastRequest, env, integrationToken, salesChannelToken } from './sdk_client.mjs'

const CART = JSON.parse(env('OMS_CART'))
const SHIPPING_METHOD_ID = env('OMS_SHIPPING_METHOD_ID')
const CARD_METHOD_ID = env('OMS_CARD_METHOD_ID')
const MAIL_DIR = env('OMS_MAIL_DIR')
const ADA = { email: 'ada.returning@example.com', password: 'analytical engine' }
const BOB = { email: 'bob.returning@example.com', password: 'difference engine' }

let salesChannel
let integration

before(async () => {
  const [scToken, intToken] = await Promise.all([salesChannelToken(), integrationToken()])
  salesChannel = clientWithToken(scToken)
  integration = clientWithToken(intToken)
})

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
  return error
}

// The password grant: the customer's own token, in the sales channel's market.
async function passwordToken({ email, password }) {
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
  return { status: response.status, body: await response.json() }
}

async function logIn(customer) {
  const { status, body } = await passwordToken(customer)
  assert.equal(status, 200, JSON.stringify(body))
  assert.equal(typeof body.access_token, 'string')
  return clientWithToken(body.access_token)
}

async function signUp(customer) {
  const created = await salesChannel.customers.create(customer)
  assert.equal(created.type, 'customers')
  assert.equal(created.email, customer.email)
  assert.equal(created.has_password, true)
  assert.equal(created.password, undefined, 'a password is never rendered')
  return created
}

// A cart with the lines of OMS_CART and its shipping method chosen; `update` is what else the
// order is sent (addresses, triggers, a saved payment source).
async function cart(cl, update) {
  const draft = await cl.orders.create({})
  const order = cl.orders.relationship(draft.id)
  for (const { sku_code, quantity } of CART) {
    await cl.line_items.create({ order, sku_code, quantity })
  }
  const updated = await cl.orders.update({ id: draft.id, ...update }, { include: ['shipping_address', 'billing_address', 'payment_method'] })
  for (const shipment of await cl.orders.shipments(draft.id)) {
    await cl.shipments.update({ id: shipment.id, shipping_method: cl.shipping_methods.relationship(SHIPPING_METHOD_ID) })
  }
  return updated
}

function mailedReset() {
  const files = readdirSync(MAIL_DIR).map((name) => join(MAIL_DIR, name))
  assert.ok(files.length > 0, `no e-mail in ${MAIL_DIR}`)
  const text = files.map((file) => readFileSync(file, 'utf8')).join('\n')
  const token = text.match(/Reset token: (\S+)/)
  const id = text.match(/Password reset: (\S+)/)
  assert.ok(token && id, 'the e-mail carries the reset and its token')
  return { id: id[1], token: token[1] }
}

const state = {}

describe('a returning customer through the SDK', () => {
  test('signs up through the storefront; a taken e-mail is a 422', async () => {
    state.ada = await signUp(ADA)
    const error = await expectApiError(salesChannel, salesChannel.customers.create({ email: ADA.email.toUpperCase(), password: 'another password' }), 422)
    assert.equal(error.errors[0].source?.pointer, '/data/attributes/email')
  })

  test('logs in, places an order saving its address and card', async () => {
    const cl = await logIn(ADA)
    state.ada.client = cl
    const address = await cl.addresses.create({
      first_name: 'Ada',
      last_name: 'Lovelace',
      line_1: '1 Analytical Street',
      city: 'London',
      zip_code: 'N1 7GU',
      country_code: 'GB',
      phone: '+44 20 7946 0000',
    })
    const pending = await cart(cl, {
      billing_address: cl.addresses.relationship(address.id),
      _shipping_address_same_as_billing: true,
      payment_method: cl.payment_methods.relationship(CARD_METHOD_ID),
      _save_shipping_address_to_customer_address_book: true,
      _save_billing_address_to_customer_address_book: true,
      _save_payment_source_to_customer_wallet: true,
    })
    assert.equal(pending.status, 'pending')
    assert.equal(pending.customer_email, ADA.email)
    await cl.external_payments.create({ order: cl.orders.relationship(pending.id), payment_source_token: 'pm_card_visa' })
    const placed = await cl.orders._place(pending.id)
    assert.equal(placed.status, 'placed')
    assert.equal(placed.payment_status, 'authorized')

    const book = Array.from(await cl.customer_addresses.list({ include: ['address'] }))
    assert.equal(book.length, 1, 'one address (shipping and billing are the same)')
    assert.equal(book[0].address?.line_1, '1 Analytical Street')
    assert.notEqual(book[0].address?.id, address.id, 'the book keeps a clone')
    const wallet = Array.from(await cl.customer_payment_sources.list())
    assert.equal(wallet.length, 1)
    assert.equal(wallet[0].payment_source_token, 'saved_pm_card_visa', "the gateway's reusable token")
    assert.equal(wallet[0].name, 'Visa ending in 4242')
    state.ada.book = book[0]
    state.ada.card = wallet[0]

    const withSource = await cl.orders.retrieve(pending.id, { include: ['payment_source'] })
    assert.equal(withSource.payment_source?.type, 'external_payments')
    assert.equal(withSource.payment_source?.payment_source_token, 'pm_card_visa')
  })

  test('a second order reuses the saved address and card without entering them', async () => {
    const cl = state.ada.client
    const listing = await cl.orders.create({})
    const offered = await cl.orders.retrieve(listing.id, { include: ['available_customer_payment_sources'] })
    assert.deepEqual(Array.from(offered.available_customer_payment_sources ?? [], (s) => s.id), [state.ada.card.id])
    const pending = await cart(cl, {
      _shipping_address_clone_id: state.ada.book.address.id,
      _billing_address_clone_id: state.ada.book.address.id,
      _customer_payment_source_id: state.ada.card.id,
    })
    assert.equal(pending.status, 'pending')
    assert.equal(pending.shipping_address?.line_1, '1 Analytical Street')
    assert.equal(pending.billing_address?.city, 'London')
    assert.equal(pending.payment_method?.id, CARD_METHOD_ID)
    const placed = await cl.orders._place(pending.id, { include: ['payment_source'] })
    assert.equal(placed.status, 'placed')
    assert.equal(placed.payment_source?.type, 'external_payments')
    assert.equal(placed.payment_source?.payment_source_token, 'saved_pm_card_visa')

    const [authorization] = Array.from(await integration.orders.authorizations(pending.id, { include: ['order', 'payment_source'] }))
    assert.equal(authorization.order?.id, pending.id)
    assert.equal(authorization.payment_source?.id, placed.payment_source.id)
    const customer = await cl.customers.retrieve(state.ada.id)
    assert.equal(customer.status, 'repeat')
    assert.equal(customer.total_orders_count, 2)
  })

  test("another customer and the sales channel cannot reach Ada's book or wallet", async () => {
    await signUp(BOB)
    const bob = await logIn(BOB)
    const { book, card } = state.ada
    await expectApiError(bob, bob.customer_addresses.retrieve(book.id), 404)
    await expectApiError(bob, bob.customer_payment_sources.retrieve(card.id), 404)
    await expectApiError(bob, bob.customer_payment_sources.delete(card.id), 404)
    await expectApiError(bob, bob.customer_addresses.delete(book.id), 404)
    await expectApiError(bob, bob.addresses.retrieve(book.address.id), 404)
    await expectApiError(bob, bob.customers.retrieve(state.ada.id, { include: ['customer_payment_sources', 'customer_addresses'] }), 404)
    assert.equal(Array.from(await bob.customer_addresses.list()).length, 0)
    assert.equal(Array.from(await bob.customer_payment_sources.list()).length, 0)
    const bobsCart = await bob.orders.create({})
    await expectApiError(bob, bob.orders.update({ id: bobsCart.id, _customer_payment_source_id: card.id }), 422)
    await expectApiError(bob, bob.orders.update({ id: bobsCart.id, _shipping_address_clone_id: book.address.id }), 422)
    await expectApiError(bob, bob.customer_addresses.create({
      customer: bob.customers.relationship(state.ada.id),
      address: bob.addresses.relationship(book.address.id),
    }), 401)

    await expectApiError(salesChannel, salesChannel.customer_addresses.list(), 401)
    await expectApiError(salesChannel, salesChannel.customer_addresses.retrieve(book.id), 401)
    await expectApiError(salesChannel, salesChannel.customer_payment_sources.list(), 401)
    await expectApiError(salesChannel, salesChannel.customer_payment_sources.retrieve(card.id), 401)
    await expectApiError(salesChannel, salesChannel.customers.retrieve(state.ada.id), 401)

    // still there, untouched
    assert.equal((await state.ada.client.customer_payment_sources.retrieve(card.id)).id, card.id)
    assert.equal((await state.ada.client.customer_addresses.retrieve(book.id)).id, book.id)
  })

  test('resets a forgotten password with the e-mailed token, once', async () => {
    const requested = await salesChannel.customer_password_resets.create({ customer_email: ADA.email })
    assert.equal(requested.type, 'customer_password_resets')
    assert.equal(requested.reset_password_token, null, 'the token goes to the mailbox only')
    const { id, token } = mailedReset()
    assert.equal(id, requested.id)
    await expectApiError(salesChannel, salesChannel.customer_password_resets.update({ id, customer_password: 'a new password', _reset_password_token: 'wrong' }), 422)
    const reset = await salesChannel.customer_password_resets.update({ id, customer_password: 'a brand new password', _reset_password_token: token })
    assert.ok(reset.reset_password_at, 'reset_password_at is set')
    assert.notEqual((await passwordToken(ADA)).status, 200, 'the old password no longer logs in')
    await logIn({ email: ADA.email, password: 'a brand new password' })
    const again = await expectApiError(salesChannel, salesChannel.customer_password_resets.update({ id, customer_password: 'yet another password', _reset_password_token: token }), 422)
    assert.equal(again.errors[0].code, 'RESET_PASSWORD_TOKEN_INVALID')
  })
})
