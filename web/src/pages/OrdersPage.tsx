import { useState, type FormEvent } from 'react';
import { cancelOrder, listOrders, placeOrder, type Order } from '../api/orders';
import { statusOf } from '../api/problem';
import { SCOPES } from '../api/types';
import { useAuth } from '../auth/AuthContext';
import {
  Alert,
  Badge,
  Button,
  Card,
  Empty,
  Field,
  LiveMessage,
  Loading,
  PageHeader,
  SelectField,
  Table,
  td,
  tdNum,
  th,
  thNum,
} from '../components/ui';
import { formatDateTime } from '../lib/format';
import { useAction, usePaged } from '../lib/hooks';

const DECIMAL = /^\d+(\.\d+)?$/;

function statusColor(status: string): 'green' | 'gray' | 'amber' | 'red' | 'indigo' {
  switch (status) {
    case 'open':
      return 'green';
    case 'cancelled':
      return 'gray';
    case 'filled':
      return 'indigo';
    case 'rejected':
      return 'red';
    default:
      return 'amber';
  }
}

export function OrdersPage() {
  const { api, hasScope } = useAuth();
  const canWrite = hasScope(SCOPES.ordersWrite);
  const list = usePaged((cursor) => listOrders(api.http, { limit: 50, ...(cursor ? { cursor } : {}) }), [api]);
  const action = useAction();

  const cancel = (o: Order) =>
    action.run(
      o.id,
      async () => {
        const updated = await cancelOrder(api.http, o.id);
        list.update((items) => items.map((x) => (x.id === o.id ? { ...x, ...updated } : x)));
      },
      (e) => {
        if (statusOf(e) !== 409) return undefined;
        list.reload();
        return 'This order is no longer open, so it cannot be cancelled.';
      },
    );

  return (
    <div data-testid="orders-page">
      <PageHeader title="Orders" subtitle="Limit orders in your organisation that you can see." />
      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <div className="lg:order-2">
          {canWrite ? (
            <PlaceOrder onPlaced={(o) => list.update((items) => [o, ...items])} />
          ) : (
            <Card title="Place an order">
              <p className="text-sm text-slate-600" data-testid="orders-readonly-note">
                Your role can view orders but not place them. Ask an administrator for the{' '}
                <code className="rounded bg-slate-100 px-1">trader</code> role.
              </p>
            </Card>
          )}
        </div>
        <Card
          title="Order book"
          className="lg:order-1 lg:col-span-2"
          actions={
            <Button size="sm" variant="ghost" onClick={list.reload}>
              Refresh
            </Button>
          }
        >
          <LiveMessage message={action.message} className="mb-3" testId="orders-error" />
          {list.loading ? (
            <Loading text="Loading orders…" />
          ) : list.error && list.items.length === 0 ? (
            <Alert onRetry={list.reload}>{list.error}</Alert>
          ) : list.items.length === 0 ? (
            <Empty title="No orders yet" testId="orders-empty">
              {canWrite
                ? 'Place your first order with the form.'
                : 'Orders placed in your organisation will show here.'}
            </Empty>
          ) : (
            <>
              <Table caption="Orders" testId="orders-table">
                <thead>
                  <tr>
                    <th scope="col" className={th}>
                      Symbol
                    </th>
                    <th scope="col" className={th}>
                      Side
                    </th>
                    <th scope="col" className={thNum}>
                      Qty
                    </th>
                    <th scope="col" className={thNum}>
                      Limit
                    </th>
                    <th scope="col" className={th}>
                      Status
                    </th>
                    <th scope="col" className={th}>
                      Placed
                    </th>
                    {canWrite && (
                      <th scope="col" className={th}>
                        <span className="sr-only">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100">
                  {list.items.map((o) => (
                    <tr key={o.id} data-testid="order-row">
                      <td className={`${td} font-medium text-slate-900`}>{o.symbol}</td>
                      <td className={td}>
                        <span className={o.side === 'buy' ? 'text-emerald-700' : 'text-rose-700'}>{o.side}</span>
                      </td>
                      <td className={tdNum}>{o.quantity}</td>
                      <td className={tdNum}>{o.limit_price}</td>
                      <td className={td}>
                        <Badge color={statusColor(o.status)}>{o.status}</Badge>
                      </td>
                      <td className={`${td} whitespace-nowrap`}>{formatDateTime(o.created_at)}</td>
                      {canWrite && (
                        <td className={`${td} text-right`}>
                          {o.status === 'open' && (
                            <Button
                              size="sm"
                              variant="secondary"
                              onClick={() => void cancel(o)}
                              loading={action.busy === o.id}
                              data-testid="order-cancel"
                            >
                              Cancel<span className="sr-only">{` ${o.side} ${o.quantity} ${o.symbol}`}</span>
                            </Button>
                          )}
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </Table>
              {list.error && (
                <div className="mt-3">
                  <Alert>{list.error}</Alert>
                </div>
              )}
              {list.hasMore && (
                <div className="mt-4 text-center">
                  <Button variant="secondary" onClick={list.loadMore} loading={list.loadingMore}>
                    Load more
                  </Button>
                </div>
              )}
            </>
          )}
        </Card>
      </div>
    </div>
  );
}

function PlaceOrder({ onPlaced }: { onPlaced: (o: Order) => void }) {
  const { api } = useAuth();
  const [symbol, setSymbol] = useState('');
  const [side, setSide] = useState<'buy' | 'sell'>('buy');
  const [quantity, setQuantity] = useState('');
  const [price, setPrice] = useState('');
  const [touched, setTouched] = useState(false);
  const action = useAction();

  const sym = symbol.trim().toUpperCase();
  const errors = {
    symbol: !sym
      ? 'Enter a symbol.'
      : !/^[A-Z0-9.\-/]{1,16}$/.test(sym)
        ? 'Letters, digits, “.”, “-” or “/”, up to 16.'
        : null,
    quantity: !DECIMAL.test(quantity.trim()) || Number(quantity) <= 0 ? 'Enter a positive number.' : null,
    price: !DECIMAL.test(price.trim()) || Number(price) <= 0 ? 'Enter a positive price.' : null,
  };
  const invalid = !!(errors.symbol || errors.quantity || errors.price);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (invalid) return;
    void action.run('place', async () => {
      const order = await placeOrder(api.http, {
        symbol: sym,
        side,
        quantity: quantity.trim(),
        limit_price: price.trim(),
      });
      onPlaced(order);
      setQuantity('');
      setTouched(false);
      return `Order placed: ${side} ${quantity.trim()} ${sym} @ ${price.trim()}.`;
    });
  };

  return (
    <Card title="Place an order">
      <form onSubmit={submit} className="space-y-4" noValidate data-testid="order-form">
        <LiveMessage message={action.message} testId="order-message" />
        <Field
          label="Symbol"
          value={symbol}
          onChange={(e) => setSymbol(e.target.value)}
          autoCapitalize="characters"
          placeholder="AAPL"
          error={touched ? errors.symbol : null}
          data-testid="order-symbol"
        />
        <SelectField
          label="Side"
          value={side}
          onChange={(e) => setSide(e.target.value as 'buy' | 'sell')}
          options={[
            { value: 'buy', label: 'Buy' },
            { value: 'sell', label: 'Sell' },
          ]}
          data-testid="order-side"
        />
        <div className="grid grid-cols-2 gap-3">
          <Field
            label="Quantity"
            inputMode="decimal"
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
            placeholder="10"
            error={touched ? errors.quantity : null}
            data-testid="order-quantity"
          />
          <Field
            label="Limit price"
            inputMode="decimal"
            value={price}
            onChange={(e) => setPrice(e.target.value)}
            placeholder="187.25"
            error={touched ? errors.price : null}
            data-testid="order-price"
          />
        </div>
        <Button type="submit" className="w-full" loading={action.busy === 'place'} data-testid="order-submit">
          Place {side} order
        </Button>
      </form>
    </Card>
  );
}
