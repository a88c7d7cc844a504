"""Demo questions: (title, sql) pairs as a text-to-SQL agent would write them.

The demo answers each one for several principals side by side (see
``policies/principals.yaml``): the same SQL gives eve (EU sales rep), sam (NA
support agent) and ada (auditor) different rows, masked values, or a denial that
names the column. Written in plain SQL that DuckDB and PostgreSQL both accept.
"""

from __future__ import annotations

QUESTIONS: list[tuple[str, str]] = [
    (
        "Top 10 customers by revenue",
        """
SELECT c.id, c.name, c.email, c.region, SUM(o.total) AS revenue, COUNT(*) AS orders
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.status <> 'cancelled'
GROUP BY c.id, c.name, c.email, c.region
ORDER BY revenue DESC, c.id
LIMIT 10
""".strip(),
    ),
    (
        "Monthly revenue by region in 2024 (CTE)",
        """
WITH monthly AS (
    SELECT region, date_trunc('month', ordered_at) AS month, SUM(total) AS revenue
    FROM orders
    WHERE ordered_at >= DATE '2024-01-01'
    GROUP BY region, date_trunc('month', ordered_at)
)
SELECT region, month, revenue,
       SUM(revenue) OVER (PARTITION BY region ORDER BY month) AS running_revenue
FROM monthly
ORDER BY region, month
""".strip(),
    ),
    (
        "Show me the customers table",
        "SELECT * FROM customers ORDER BY id LIMIT 20",
    ),
    (
        "Latest urgent and high-priority tickets with customer contact details",
        """
SELECT t.id, t.opened_at, t.status, t.priority, t.subject, t.body, c.name, c.email, c.phone
FROM support_tickets AS t
JOIN customers AS c ON c.id = t.customer_id
WHERE t.priority IN ('high', 'urgent')
ORDER BY t.opened_at DESC, t.id
LIMIT 10
""".strip(),
    ),
    (
        "Best-selling products by units (subquery)",
        """
SELECT product, SUM(quantity) AS units, SUM(quantity * unit_price) AS revenue
FROM order_items
WHERE order_id IN (SELECT id FROM orders WHERE status = 'delivered')
GROUP BY product
ORDER BY units DESC, product
LIMIT 10
""".strip(),
    ),
    (
        "My customers with their open tickets and orders (entity scope: whose customers)",
        """
SELECT c.id, c.name, COUNT(DISTINCT t.id) AS open_tickets,
       (SELECT COUNT(*) FROM orders AS o WHERE o.customer_id = c.id) AS orders
FROM customers AS c
LEFT JOIN support_tickets AS t ON t.customer_id = c.id AND t.status IN ('open', 'pending')
GROUP BY c.id, c.name
ORDER BY open_tickets DESC, c.id
LIMIT 10
""".strip(),
    ),
    (
        "Largest balances with the holder's national id and IBAN (sensitive columns)",
        """
SELECT c.name, c.national_id, a.iban, a.balance
FROM customers AS c
JOIN accounts AS a ON a.customer_id = c.id
WHERE a.status = 'active'
ORDER BY a.balance DESC, a.id
LIMIT 10
""".strip(),
    ),
    (
        "Average salary by role and region",
        """
SELECT role, region, COUNT(*) AS people, AVG(salary) AS avg_salary
FROM employees
GROUP BY role, region
ORDER BY role, region
""".strip(),
    ),
]
