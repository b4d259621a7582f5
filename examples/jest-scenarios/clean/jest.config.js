module.exports = { testEnvironment: 'node', maxWorkers: 1 };
