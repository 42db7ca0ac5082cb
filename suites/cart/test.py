"""cart: component integration, the API and Redis.

Targets api and cache: carts live in Redis (hash shop:cart:<id>, expiring
after an hour), and this suite checks both what the API answers and what
it left in Redis. Carts do not touch the orders table: this suite passes
in the broken variant, and so clears the edge api -> cache.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from shoptest import check, eq, expect, http, redis, run, test, unique, url  # noqa: E402

API = url("api", 8080)
r = redis()


def put(cart, sku, quantity):
    return http("PUT", "%s/carts/%s/items/%s" % (API, cart, sku), {"quantity": quantity})


@test
def items_added_are_in_redis():
    cart = unique("cart")
    expect(put(cart, "mug", 2), 200, "PUT mug")
    c = expect(put(cart, "tee", 1), 200, "PUT tee")
    eq([(i["sku"], i["quantity"]) for i in c["items"]], [("mug", 2), ("tee", 1)], "items")
    eq(c["total_cents"], 2 * 1200 + 2500, "total_cents")
    eq(r.hgetall("shop:cart:" + cart), {"mug": "2", "tee": "1"}, "the Redis hash")
    ttl = r.ttl("shop:cart:" + cart)
    check(0 < ttl <= 3600, "the cart expires within the hour (ttl %r)" % ttl)


@test
def cart_read_back_from_redis():
    cart = unique("cart")
    r.hset("shop:cart:" + cart, mapping={"sticker": 3})
    c = expect(http("GET", "%s/carts/%s" % (API, cart)), 200, "GET cart")
    eq(c["items"], [{"sku": "sticker", "name": "Sticker pack", "quantity": 3,
                     "price_cents": 300}], "items read from a hash written to Redis")


@test
def quantity_zero_removes_and_delete_empties():
    cart = unique("cart")
    expect(put(cart, "mug", 1), 200, "PUT mug")
    expect(put(cart, "tee", 1), 200, "PUT tee")
    c = expect(put(cart, "mug", 0), 200, "PUT mug 0")
    eq([i["sku"] for i in c["items"]], ["tee"], "items after removing mug")
    expect(http("DELETE", "%s/carts/%s" % (API, cart)), 204, "DELETE cart")
    eq(r.exists("shop:cart:" + cart), 0, "the Redis key after DELETE")
    eq(expect(http("GET", "%s/carts/%s" % (API, cart)), 200, "GET")["items"], [], "items")


@test
def bad_requests_change_nothing():
    cart = unique("cart")
    expect(put(cart, "no-such-sku", 1), 404, "unknown product")
    expect(put(cart, "mug", -1), 422, "negative quantity")
    expect(put(cart, "mug", "two"), 422, "quantity not a number")
    expect(http("PUT", "%s/carts/%s/items/mug" % (API, cart), b"{not json"), 400, "not JSON")
    eq(r.exists("shop:cart:" + cart), 0, "Redis key after bad requests")


run("cart")
