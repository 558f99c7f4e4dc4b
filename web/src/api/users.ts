/** The caller's own account. */
import { request, type BodyOf, type Http, type ResponseOf } from './http';

export type User = ResponseOf<'/api/v1/users/me', 'get'>;

export function getMe(http: Http) {
  return request(http, 'get', '/api/v1/users/me', {});
}

export function updateMe(http: Http, body: BodyOf<'/api/v1/users/me', 'patch'>) {
  return request(http, 'patch', '/api/v1/users/me', { body });
}

/** Changes the password; the caller's other sessions end. */
export function changePassword(http: Http, body: BodyOf<'/api/v1/users/me/password', 'post'>) {
  return request(http, 'post', '/api/v1/users/me/password', { body });
}
