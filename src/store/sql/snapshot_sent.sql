UPDATE snapshot SET requests = requests + 1, retries = retries + ?2
 WHERE id = ?1 AND status = 'running'
