WITH `t4` AS (
  SELECT
    `t3`.`experiment_key`,
    `t3`.`unit_id`,
    MIN(`t3`.`timestamp`) AS `entry_ts`,
    MIN(`t3`.`variant_key`) <> MAX(`t3`.`variant_key`) AS `mixed`,
    MIN(`t3`.`variant_key`) AS `variant_key`,
    MIN_BY(`t3`.`country`, `t3`.`timestamp`) AS `country`,
    MIN_BY(`t3`.`platform`, `t3`.`timestamp`) AS `platform`,
    MAX(`t3`.`exp_end`) AS `exp_end`
  FROM (
    SELECT
      `t0`.`experiment_key`,
      `t0`.`variant_key`,
      `t0`.`unit_id`,
      `t0`.`timestamp`,
      `t0`.`country`,
      `t0`.`platform`,
      `t0`.`attributes`,
      CASE
        WHEN `t0`.`experiment_key` = 'price-discount-10'
        THEN TIMESTAMP('2026-01-31T00:00:00+00:00')
        ELSE TIMESTAMP('2026-05-21T00:00:00+00:00')
      END AS `exp_start`,
      CASE
        WHEN `t0`.`experiment_key` = 'price-discount-10'
        THEN TIMESTAMP('2026-03-14T00:00:00+00:00')
        ELSE TIMESTAMP('2200-01-01T00:00:00+00:00')
      END AS `enrol_end`,
      CASE
        WHEN `t0`.`experiment_key` = 'price-discount-10'
        THEN TIMESTAMP('2026-03-14T00:00:00+00:00')
        ELSE TIMESTAMP('2200-01-01T00:00:00+00:00')
      END AS `exp_end`
    FROM `exposures` AS `t0`
    WHERE
      `t0`.`experiment_key` IN ('price-discount-10', 'msg-email-subject')
      AND `t0`.`timestamp` >= CASE
        WHEN `t0`.`experiment_key` = 'price-discount-10'
        THEN TIMESTAMP('2026-01-31T00:00:00+00:00')
        ELSE TIMESTAMP('2026-05-21T00:00:00+00:00')
      END
      AND `t0`.`timestamp` < CASE
        WHEN `t0`.`experiment_key` = 'price-discount-10'
        THEN TIMESTAMP('2026-03-14T00:00:00+00:00')
        ELSE TIMESTAMP('2200-01-01T00:00:00+00:00')
      END
  ) AS `t3`
  GROUP BY
    1,
    2
)
SELECT
  `t16`.`experiment_key`,
  `t16`.`variant_key`,
  `t16`.`mixed`,
  COUNT(*) AS `n`,
  SUM(`t16`.`w0`) AS `n0`,
  SUM(`t16`.`x0_0`) AS `s0_0`,
  SUM(`t16`.`x0_1`) AS `s0_1`,
  SUM(`t16`.`x0_0` * `t16`.`x0_0`) AS `q0_0_0`,
  SUM(`t16`.`x0_0` * `t16`.`x0_1`) AS `q0_0_1`,
  SUM(`t16`.`x0_1` * `t16`.`x0_1`) AS `q0_1_1`,
  SUM(`t16`.`w1`) AS `n1`,
  SUM(`t16`.`x1_0`) AS `s1_0`,
  SUM(`t16`.`x1_1`) AS `s1_1`,
  SUM(`t16`.`x1_0` * `t16`.`x1_0`) AS `q1_0_0`,
  SUM(`t16`.`x1_0` * `t16`.`x1_1`) AS `q1_0_1`,
  SUM(`t16`.`x1_1` * `t16`.`x1_1`) AS `q1_1_1`,
  SUM(`t16`.`w2`) AS `n2`,
  SUM(`t16`.`x2_0`) AS `s2_0`,
  SUM(`t16`.`x2_1`) AS `s2_1`,
  SUM(`t16`.`x2_0` * `t16`.`x2_0`) AS `q2_0_0`,
  SUM(`t16`.`x2_0` * `t16`.`x2_1`) AS `q2_0_1`,
  SUM(`t16`.`x2_1` * `t16`.`x2_1`) AS `q2_1_1`,
  SUM(`t16`.`w3`) AS `n3`,
  SUM(`t16`.`x3_0`) AS `s3_0`,
  SUM(`t16`.`x3_0` * `t16`.`x3_0`) AS `q3_0_0`,
  SUM(`t16`.`w4`) AS `n4`,
  SUM(`t16`.`x4_0`) AS `s4_0`,
  SUM(`t16`.`x4_1`) AS `s4_1`,
  SUM(`t16`.`x4_0` * `t16`.`x4_0`) AS `q4_0_0`,
  SUM(`t16`.`x4_0` * `t16`.`x4_1`) AS `q4_0_1`,
  SUM(`t16`.`x4_1` * `t16`.`x4_1`) AS `q4_1_1`
FROM (
  SELECT
    `t15`.`experiment_key`,
    `t15`.`unit_id`,
    `t15`.`variant_key`,
    `t15`.`country`,
    `t15`.`platform`,
    `t15`.`mixed`,
    `t15`.`entry_day`,
    `t15`.`done_14`,
    `t15`.`m0`,
    `t15`.`m1`,
    `t15`.`m2`,
    `t15`.`m3`,
    `t15`.`m4`,
    `t15`.`m5`,
    IF(`t15`.`done_14`, IF(`t15`.`m0` > 0, 1.0, 0.0), 0.0) AS `x0_0`,
    IF(`t15`.`done_14`, IF(`t15`.`m1` > 0, 1.0, 0.0), 0.0) AS `x0_1`,
    IF(`t15`.`done_14`, 1.0, 0.0) AS `w0`,
    IF(`t15`.`done_14`, `t15`.`m2`, 0.0) AS `x1_0`,
    IF(`t15`.`done_14`, `t15`.`m3`, 0.0) AS `x1_1`,
    IF(`t15`.`done_14`, 1.0, 0.0) AS `w1`,
    IF(`t15`.`done_14`, `t15`.`m4`, 0.0) AS `x2_0`,
    IF(`t15`.`done_14`, `t15`.`m0`, 0.0) AS `x2_1`,
    IF(`t15`.`done_14`, 1.0, 0.0) AS `w2`,
    IF(`t15`.`done_14`, `t15`.`m5`, 0.0) AS `x3_0`,
    IF(`t15`.`done_14`, 1.0, 0.0) AS `w3`,
    IF(`t15`.`done_14`, `t15`.`m2`, 0.0) AS `x4_0`,
    IF(`t15`.`done_14`, `t15`.`m0`, 0.0) AS `x4_1`,
    IF(`t15`.`done_14`, 1.0, 0.0) AS `w4`
  FROM (
    SELECT
      `t10`.`experiment_key`,
      `t10`.`unit_id`,
      `t10`.`variant_key`,
      `t10`.`country`,
      `t10`.`platform`,
      `t10`.`mixed`,
      DATE(`t10`.`entry_ts`) AS `entry_day`,
      TIMESTAMP_ADD(`t10`.`entry_ts`, INTERVAL '14' DAY) <= `t10`.`exp_end` AS `done_14`,
      COALESCE(`t14`.`m0`, 0.0) AS `m0`,
      COALESCE(`t14`.`m1`, 0.0) AS `m1`,
      COALESCE(`t14`.`m2`, 0.0) AS `m2`,
      COALESCE(`t14`.`m3`, 0.0) AS `m3`,
      COALESCE(`t14`.`m4`, 0.0) AS `m4`,
      COALESCE(`t14`.`m5`, 0.0) AS `m5`
    FROM (
      SELECT
        `t6`.`experiment_key`,
        `t6`.`unit_id`,
        `t6`.`entry_ts`,
        `t6`.`mixed`,
        `t6`.`variant_key`,
        `t6`.`country`,
        `t6`.`platform`,
        `t6`.`exp_end`,
        CAST(CASE
          WHEN `t6`.`experiment_key` = 'price-discount-10'
          THEN 0
          WHEN `t6`.`experiment_key` = 'msg-email-subject'
          THEN 1
          ELSE -1
        END AS INT64) AS `xi`
      FROM `t4` AS `t6`
    ) AS `t10`
    LEFT OUTER JOIN (
      SELECT
        `t12`.`xi`,
        `t12`.`unit_id`,
        SUM(IF((
          `t12`.`code` = 0
        ) AND (
          `t12`.`timestamp` >= `t12`.`b_p0`
        ), 1.0, 0.0)) AS `m0`,
        SUM(IF((
          `t12`.`code` = 0
        ) AND (
          `t12`.`timestamp` < `t12`.`b_p0`
        ), 1.0, 0.0)) AS `m1`,
        SUM(
          IF(
            (
              `t12`.`code` = 0
            ) AND (
              `t12`.`timestamp` >= `t12`.`b_p0`
            ),
            `t12`.`amount`,
            0.0
          )
        ) AS `m2`,
        SUM(
          IF(
            (
              `t12`.`code` = 0
            ) AND (
              `t12`.`timestamp` < `t12`.`b_p0`
            ),
            `t12`.`amount`,
            0.0
          )
        ) AS `m3`,
        SUM(IF((
          `t12`.`code` = 1
        ) AND (
          `t12`.`timestamp` >= `t12`.`b_p0`
        ), 1.0, 0.0)) AS `m4`,
        SUM(
          IF(
            (
              `t12`.`code` = 0
            ) AND (
              `t12`.`timestamp` >= `t12`.`b_p0`
            ) AND `t12`.`f0`,
            `t12`.`amount`,
            0.0
          )
        ) AS `m5`
      FROM (
        SELECT
          `t7`.`unit_id`,
          `t7`.`timestamp`,
          `t7`.`code`,
          `t7`.`amount`,
          `t7`.`f0`,
          `t11`.`xi`,
          `t11`.`unit_id` AS `unit_id_right`,
          `t11`.`entry_ts`,
          `t11`.`exp_end`,
          `t11`.`b_m28`,
          `t11`.`b_p0`,
          `t11`.`b_p14`,
          `t11`.`span_end`
        FROM (
          SELECT
            `t2`.`unit_id`,
            `t2`.`timestamp`,
            CASE
              WHEN `t2`.`event_name` = 'purchase'
              THEN 0
              WHEN `t2`.`event_name` = 'return'
              THEN 1
              ELSE -1
            END AS `code`,
            COALESCE(`t2`.`value`, 0.0) AS `amount`,
            COALESCE(
              TRUE AND (
                JSON_EXTRACT_SCALAR(`t2`.`properties`, '$.category') = 'camera'
              ),
              FALSE
            ) AS `f0`
          FROM (
            SELECT
              *
            FROM `events` AS `t1`
            WHERE
              `t1`.`event_name` IN ('purchase', 'return')
          ) AS `t2`
        ) AS `t7`
        INNER JOIN (
          SELECT
            CAST(CASE
              WHEN `t6`.`experiment_key` = 'price-discount-10'
              THEN 0
              WHEN `t6`.`experiment_key` = 'msg-email-subject'
              THEN 1
              ELSE -1
            END AS INT64) AS `xi`,
            `t6`.`unit_id`,
            `t6`.`entry_ts`,
            `t6`.`exp_end`,
            TIMESTAMP_ADD(`t6`.`entry_ts`, INTERVAL '-28' DAY) AS `b_m28`,
            TIMESTAMP_ADD(`t6`.`entry_ts`, INTERVAL '0' DAY) AS `b_p0`,
            TIMESTAMP_ADD(`t6`.`entry_ts`, INTERVAL '14' DAY) AS `b_p14`,
            LEAST(TIMESTAMP_ADD(`t6`.`entry_ts`, INTERVAL '14' DAY), `t6`.`exp_end`) AS `span_end`
          FROM `t4` AS `t6`
          WHERE
            NOT (
              `t6`.`mixed`
            )
        ) AS `t11`
          ON `t7`.`unit_id` = `t11`.`unit_id`
          AND `t7`.`timestamp` >= `t11`.`b_m28`
          AND `t7`.`timestamp` < `t11`.`span_end`
      ) AS `t12`
      GROUP BY
        1,
        2
    ) AS `t14`
      ON `t10`.`xi` = `t14`.`xi` AND `t10`.`unit_id` = `t14`.`unit_id`
  ) AS `t15`
) AS `t16`
GROUP BY
  1,
  2,
  3
