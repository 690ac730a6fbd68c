model_component::model_component!(risk_models::Model::Pce2013);
