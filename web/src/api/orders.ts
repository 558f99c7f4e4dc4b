/** Orders, the protected trading resource. */
import { request, type BodyOf, type Http, type QueryOf, type ResponseOf } from './http';

export type Order = ResponseOf<'/api/v1/orders', 'post'>;

export function listOrders(http: Http, query: QueryOf<'/api/v1/orders', 'get'>) {
  return request(http, 'get', '/api/v1/orders', { query });
}

export function placeOrder(http: Http, body: BodyOf<'/api/v1/orders', 'post'>) {
  return request(http, 'post', '/api/v1/orders', { body });
}

/** Cancels an open order (409 when it is no longer open); answers it, now `cancelled`. */
export function cancelOrder(http: Http, id: string) {
  return request(http, 'delete', '/api/v1/orders/{id}', { path: { id } });
}
